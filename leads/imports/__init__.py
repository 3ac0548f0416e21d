"""Importing a brokerage's old database: a CSV or Excel file in, dormant contacts out.

    files      read the file (CSV in any common encoding and delimiter, or .xlsx): its header and
               its rows, one at a time, with a clear error for a file we cannot read
    columns    the lead fields a column can fill, guessed from its header ("E-mail", "Cell
               Phone", "Zip Code", "Last Contacted", "Type"), and how a cell's text is read
               (dates in US and ISO formats, a relationship from a stage or type)
    cleaning   one row validated like a form: the lead's values, or the reasons it cannot be one
    services   the batch from upload to done: map, dry run (ImportRow per row, no lead written),
               import in chunks (bulk writes, dedupe by email or phone), undo

The background work (dry run, import, undo in chunks on django-q2) is
realtycrm.flows.imports; the pages are leads/views/imports.py; `manage.py import_leads` runs the
same steps in one process. docs/database.md says what a file may hold and how dedupe and
consent work.
"""
