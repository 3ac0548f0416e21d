"""What an inbound text means: opt out, opt back in, ask for help, or a real reply. Pure.

Carrier keywords count whatever the case and surrounding spaces or punctuation ("Stop.",
" STOP "). Plain-language requests ("please stop texting me", "remove me from your list",
"wrong number") opt out too: when in doubt between a reply and an opt-out, opting out is the
answer that never sends an unwanted text. "Stop by at 5?" is a reply.
"""

import re
import unicodedata

STOP = "stop"
START = "start"
HELP = "help"
REPLY = "reply"

STOP_KEYWORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"}
START_KEYWORDS = {"start", "unstop", "yes"}  # "yes" only opts in when the number opted out
HELP_KEYWORDS = {"help", "info"}

_PLAIN_STOP = [
    r"\bstop (texting|messaging|sending|contacting|calling|emailing)\b",
    r"\b(stop|quit|cease)( it| this)?( please| now| already)?$",
    r"^please stop\b",
    r"\bstop (the |these |your )?(texts|messages|sms)\b",
    r"\b(do not|don'?t|dont|never) (text|message|contact|sms)\b",
    r"\bno more (texts|messages|sms)\b",
    r"\bunsubscribe\b",
    r"\bopt( me)? ?out\b",
    r"\b(remove|take) me (off|from)\b",
    r"\bleave me alone\b",
    r"\bwrong (number|person)\b",
    r"\bnot interested,? (stop|please stop)\b",
]
_PLAIN_STOP_RE = re.compile("|".join(f"(?:{p})" for p in _PLAIN_STOP))


def normalise(body: str) -> str:
    text = unicodedata.normalize("NFKC", body or "").lower()
    text = text.replace("\u2019", "'")
    return " ".join(text.split())


def keyword(body: str) -> str:
    """The message reduced to a bare word, if it is one ("Stop!" → "stop")."""
    return re.sub(r"[^\w]", "", normalise(body))


def classify(body: str) -> str:
    """stop, start, help or reply (see the module docstring)."""
    word = keyword(body)
    if word in STOP_KEYWORDS:
        return STOP
    if word in HELP_KEYWORDS:
        return HELP
    if word in START_KEYWORDS:
        return START
    text = re.sub(r"[^\w' ]", "", normalise(body))
    if _PLAIN_STOP_RE.search(text):
        return STOP
    return REPLY
