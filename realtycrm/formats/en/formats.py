"""US English, the default (LANGUAGE_CODE en-us): "Dec 1, 8:00 a.m.", "Dec 1, 2025".

Django's own en formats say "Dec. 1, 8 a.m." (AP style, minutes dropped on the hour); a CRM's
times are read in columns and side by side, so they keep their minutes and no period. Anything
not set here (input formats, the first day of the week) is Django's en.
"""

DATE_FORMAT = "M j, Y"
TIME_FORMAT = "g:i a"
DATETIME_FORMAT = "M j, Y, g:i a"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "M Y"
SHORT_DATE_FORMAT = "m/d/Y"
SHORT_DATETIME_FORMAT = "m/d/Y g:i a"
