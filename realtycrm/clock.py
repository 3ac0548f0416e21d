"""Time helpers every app shares: daily local windows and how a duration reads on screen."""

from datetime import time, timedelta


def in_daily_window(moment: time, start: time, end: time) -> bool:
    """Whether a local time of day lies in [start, end). A window whose end is before its start
    runs past midnight (a night shift, quiet hours from 21:00 to 08:00)."""
    if start <= end:
        return start <= moment < end
    return moment >= start or moment < end


def duration_text(delta: timedelta) -> str:
    """A duration short enough for a phone: 45 s, 4 min, 2 h 5 min, 3 d 4 h."""
    seconds = max(int(delta.total_seconds()), 0)
    minutes = seconds // 60
    if minutes < 1:
        return f"{seconds} s"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"
