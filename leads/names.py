"""How a person is named on screen, in messages and on the timeline: one rule everywhere."""


def person_name(user, *, nobody: str = "nobody") -> str:
    """A user's full name, else their username; `nobody` when there is no user."""
    if user is None:
        return nobody
    return user.get_full_name() or user.get_username()


# Lower-case words that belong to the family name ("Ludwig van Beethoven", "Rosa de la Cruz").
_PARTICLES = {"da", "de", "del", "della", "der", "di", "dos", "du", "la", "le", "st", "st.", "van"}
_PARTICLES |= {"von", "bin", "ibn", "al", "el", "ter", "ten", "mac"}
_SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv", "phd", "md", "esq", "esq."}


def name_split(full_name: str) -> tuple[str, str]:
    """A name typed in one box ("Mary Ann Smith", "Smith, John", "Ludwig van Beethoven",
    "Martin King Jr.") as (first, last): the last word is the family name, with the particles
    before it and a suffix after it; one word is a first name. Used where a channel gives only a
    full name (Meta's full_name, a portal's lead_name)."""
    text = " ".join(str(full_name or "").split())
    if "," in text:
        last, _, first = text.partition(",")
        first_is_suffix = first.strip().casefold() in _SUFFIXES  # "John Smith, Jr."
        if first.strip() and last.strip() and len(last.split()) <= 3 and not first_is_suffix:
            return first.strip(), last.strip()
        text = text.replace(",", " ")
    words = text.split()
    if len(words) < 2:
        return text, ""
    tail = []
    while len(words) > 2 and words[-1].casefold().rstrip(",") in _SUFFIXES:
        tail.insert(0, words.pop())
    last = [words.pop()]
    while len(words) > 1 and words[-1].casefold() in _PARTICLES:
        last.insert(0, words.pop())
    return " ".join(words), " ".join(last + tail)
