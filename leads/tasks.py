"""django-q2 entry points for leads. Each calls one flow and is safe to run twice."""

from realtycrm.flows.intake import submissions_process_stranded


def submissions_sweep() -> int:
    """Every minute (setup_schedules): submissions a crash left unprocessed become leads."""
    return submissions_process_stranded()
