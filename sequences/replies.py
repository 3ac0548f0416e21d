"""What an inbound text means: a revocation, maybe one, opt back in, help, or a real reply. Pure.

revoke     the consumer withdrew consent: the number is opted out at once, for every sender.
           47 CFR 64.1200(a)(10) (FCC 24-24, 2024): consent may be revoked by any reasonable
           means, the words stop, quit, end, revoke, opt out, cancel and unsubscribe in a reply
           are one per se, and other words count when a reasonable person would read them so.
           So a keyword counts anywhere in the text, as a word ("Please stop", "I want to
           unsubscribe", "OPT OUT please", "cancel"), whatever the case, spacing or punctuation,
           and so do plain requests ("remove me from your list", "don't text me", "leave me
           alone", "no more texts", "wrong number": whoever has the number never consented).
ambiguous  it may be a request to stop, and a person should say ("not interested", "no
           thanks", "please don't", "who is this?"): automation pauses and the owner confirms.
start      START / UNSTOP / YES on their own (YES only opts in when the number opted out).
help       HELP / INFO on their own.
reply      anything else.

The trade-off: reading every keyword as a revocation opts out some people who did not mean it
("Can we cancel Tuesday's showing?", "I quit my job, so we're moving"). The rule names those
words, and a wrong opt-out costs a text thread (the agent can call; the lead can text START)
while a text after a revocation is a violation, so they opt out. The only exceptions are
idioms in which the word cannot mean "stop texting me" (NOT_A_REVOCATION below: "stop by",
"end up", "the end of the month", "an end unit", "don't stop"); each is named and tested.
"""

import re
import unicodedata

REVOKE = "revoke"
AMBIGUOUS = "ambiguous"
START = "start"
HELP = "help"
REPLY = "reply"

# The words 47 CFR 64.1200(a)(10) names, and the forms carriers and people use for them.
REVOKE_WORDS = [
    r"stop",
    r"stopall",
    r"stop all",
    r"unsubscribe[ds]?",
    r"unsub",
    r"cancel",
    r"end",
    r"quit",
    r"revoke[ds]?",
    r"opt(ed|ing)? ?out",
    r"opt me out",
    r"optout",
]
# Plain requests a reasonable person reads as "stop texting me".
REVOKE_PHRASES = [
    r"(remove|delete) (me|us|my number|this number)",
    r"take (me|us|my number|this number) off",
    r"(do not|don'?t|dont|never) (text|txt|message|msg|contact|sms|bother)",
    r"no more (texts?|txts?|messages|msgs|sms|contact)",
    r"leave (me|us) alone",
    r"lose (my|this) number",
    r"wrong (number|person|phone)",
    r"(not|never) (signed|opted) up",
]
# Idioms in which a keyword cannot mean "stop texting me". Removed before looking for one.
NOT_A_REVOCATION = [
    r"stop (by|in|over|at the|at your)",  # a visit: "Can we stop by Saturday?"
    r"(don'?t|dont|do not|never) stop",  # "don't stop sending me listings"
    r"end(s|ed)? up",  # "what did it end up selling for"
    r"(at|by|before|after|till|until|to) the end",
    r"end of",  # "the end of the month", "end of the street"
    r"(east|west|north|south|high|low|dead|deep|back|front|far|other) end",
    r"end (unit|lot|date)",  # an end-unit townhouse
]
AMBIGUOUS_PHRASES = [
    r"not interested",
    r"no longer interested",
    r"no thanks?",
    r"no thank you",
    r"^please (don'?t|dont|do not)$",  # the whole text: "please don't call" is a reply
    r"who( is|'?s|s) this",
    r"who are you",
    r"how did you get (my|this) (number|info|information)",
]
START_KEYWORDS = {"start", "unstop", "yes"}
HELP_KEYWORDS = {"help", "info"}


def _any(patterns: list[str]) -> re.Pattern:
    return re.compile(r"\b(?:" + "|".join(f"(?:{p})" for p in patterns) + r")\b")


_REVOKE_RE = _any(REVOKE_WORDS + REVOKE_PHRASES)
_NOT_A_REVOCATION_RE = _any(NOT_A_REVOCATION)
_AMBIGUOUS_RE = _any(AMBIGUOUS_PHRASES)


def normalise(body: str) -> str:
    text = unicodedata.normalize("NFKC", body or "").lower()
    text = text.replace("\u2019", "'")
    return " ".join(text.split())


def keyword(body: str) -> str:
    """The message reduced to a bare word, if it is one ("Stop!" → "stop")."""
    return re.sub(r"[^\w]", "", normalise(body))


def words(body: str) -> str:
    """The message as words and spaces: punctuation (but the apostrophe) is a space, so
    "opt-out", "STOP." and "stop,please" read as words."""
    return " ".join(re.sub(r"[^\w']|_", " ", normalise(body)).split())


def is_revocation(body: str) -> bool:
    text = _NOT_A_REVOCATION_RE.sub(" ", words(body))
    return _REVOKE_RE.search(text) is not None


def classify(body: str) -> str:
    """revoke, ambiguous, start, help or reply (see the module docstring)."""
    if is_revocation(body):
        return REVOKE
    word = keyword(body)
    if word in HELP_KEYWORDS:
        return HELP
    if word in START_KEYWORDS:
        return START
    if _AMBIGUOUS_RE.search(words(body)):
        return AMBIGUOUS
    return REPLY
