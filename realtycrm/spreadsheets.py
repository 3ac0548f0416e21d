"""CSV cells that stay text when a spreadsheet opens them.

A cell starting with =, +, -, @, a tab or a carriage return would be read as a formula; it is
prefixed with an apostrophe, as OWASP advises against CSV injection, so a lead who typed
`=HYPERLINK(...)` as their name (or a broker a campaign name) stays text.
"""

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value) -> str:
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text
