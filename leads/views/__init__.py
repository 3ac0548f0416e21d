"""Views of the leads app, one module per screen.

public     the hosted intake forms, their thank-you pages, the privacy notice (no sign-in)
today      the agent's home page: what needs a human now
lead_list  the filterable leads list, saved filters (smart lists), CSV export
lead       one lead: tags and why, contact details, timeline, and the actions on it
imports    importing the old database (brokers only): upload, map, dry run, import, undo
"""

from .public import intake, intake_thanks, privacy, ratelimited

__all__ = ["intake", "intake_thanks", "privacy", "ratelimited"]
