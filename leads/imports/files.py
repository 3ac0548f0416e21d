"""Reading an uploaded file: its header and its rows, whatever spreadsheet wrote it.

CSV is read with the standard library (any of UTF-8 with or without a byte-order mark, Windows-
1252 from an old Excel, Latin-1; comma, semicolon or tab), .xlsx with openpyxl in read-only mode,
so a 100,000-row sheet is streamed rather than loaded. Cells come out as text, except Excel's own
dates, which stay datetimes (the date columns read them as they are).
"""

import csv
import io
import zipfile
from collections.abc import Iterator
from datetime import date, datetime

from django.conf import settings

XLSX_MAGIC = b"PK\x03\x04"
OLD_EXCEL_MAGIC = b"\xd0\xcf\x11\xe0"
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
MAX_CELL = 5000


class FileProblem(ValueError):
    """A file we cannot import, and what to do about it (shown to the importer as it is)."""


def file_type_of(name: str, content: bytes) -> str:
    """ "csv" or "xlsx", by what the file is rather than what it is called; FileProblem for
    anything else (an old .xls, a PDF, an empty file)."""
    if not content.strip():
        raise FileProblem("The file is empty.")
    lower = name.lower()
    if content.startswith(OLD_EXCEL_MAGIC) or lower.endswith(".xls"):
        raise FileProblem(
            "This is an old Excel file (.xls). Open it in Excel and save it as .xlsx or CSV."
        )
    if content.startswith(XLSX_MAGIC):
        if not zipfile.is_zipfile(io.BytesIO(content)) or lower.endswith((".zip", ".numbers")):
            raise FileProblem("This file is not a spreadsheet we can read: upload CSV or .xlsx.")
        return "xlsx"
    if b"\x00" in content[:4096] or not lower.endswith((".csv", ".txt", ".tsv")):
        raise FileProblem(
            "Upload a CSV file (.csv) or an Excel workbook (.xlsx): this one is neither."
        )
    return "csv"


def read_table(content: bytes, file_type: str) -> tuple[list[str], Iterator[tuple[int, list]]]:
    """(headers, rows): the first non-empty row as the column names, and every later row with
    at least one cell filled as (its row number in the file, its cells padded or cut to the
    header's width). Row numbers are the spreadsheet's: the header is row 1 when it is first."""
    rows = enumerate(_xlsx_rows(content) if file_type == "xlsx" else _csv_rows(content), start=1)
    for _number, first in rows:
        headers = [_text(cell)[:200] for cell in first]
        while headers and not headers[-1]:
            headers.pop()
        if not any(headers):
            continue
        _check_header(headers)
        return headers, _body(rows, len(headers))
    raise FileProblem("The file has no rows: the first row should name the columns.")


def _body(rows, width: int) -> Iterator[tuple[int, list]]:
    for number, row in rows:
        cells = [_cell(cell) for cell in row[:width]]
        if not any(cell not in ("", None) for cell in cells):
            continue
        yield number, cells + [""] * (width - len(cells))


def _check_header(headers: list[str]) -> None:
    """The first row must name the columns: a row of data there (an email, a phone number, a
    date) means the file has no header, and every column would be mapped wrongly."""
    looks_like_data = [
        header for header in headers if "@" in header or sum(char.isdigit() for char in header) >= 7
    ]
    if looks_like_data:
        raise FileProblem(
            "The first row should name the columns (for example First Name, Email, Phone), but "
            f"it holds data ({looks_like_data[0]!r}). Add a header row and upload it again."
        )


def _csv_rows(content: bytes) -> Iterator[list]:
    text = _decoded(content)
    sample = text[:8192]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(max(csv.field_size_limit(), MAX_CELL * 4))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        raise FileProblem(f"Line {reader.line_num} of the file cannot be read: {error}.") from error


def _decoded(content: bytes) -> str:
    for encoding in ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileProblem("The file's text cannot be read: save it as CSV UTF-8.")  # pragma: no cover


def _xlsx_rows(content: bytes) -> Iterator[list]:
    """The first sheet's rows. A workbook is a zip of XML parts any tool may have written
    badly, and openpyxl reports a broken one with whatever its parser raised (ParseError,
    KeyError, ValueError, TypeError...), on opening or only at some row: any of them is this
    file's problem, said on the upload page, never a server error."""
    # openpyxl is only needed here; importing it at module level would cost every web process.
    import openpyxl

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as error:
        raise FileProblem("This Excel file cannot be opened: save it again as .xlsx.") from error
    read = 0
    try:
        sheet = workbook.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield list(row)
            read += 1
    except Exception as error:
        raise FileProblem(
            f"This Excel file cannot be read after row {read}: save it again as .xlsx."
        ) from error
    finally:
        workbook.close()


def _cell(value):
    """A cell as text, except an Excel date (kept as a datetime for the date columns)."""
    if isinstance(value, datetime | date):
        return value
    return _text(value)[:MAX_CELL]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a phone number or zip Excel stored as a number: 4135550123.0
    return (
        " ".join(str(value).replace("\x00", "").split()) if isinstance(value, str) else str(value)
    )


def max_upload_bytes() -> int:
    return int(settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024)
