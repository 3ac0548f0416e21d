"""How a person is named on screen, in messages and on the timeline: one rule everywhere."""


def person_name(user, *, nobody: str = "nobody") -> str:
    """A user's full name, else their username; `nobody` when there is no user."""
    if user is None:
        return nobody
    return user.get_full_name() or user.get_username()


# Titles before a name and suffixes after it, as old address books write them.
NAME_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev"})
NAME_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v", "md", "phd", "esq", "dds", "cpa"})
# Words that belong to the family name that follows them ("Ludwig van Beethoven").
NAME_PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "da", "di", "dos", "du", "la", "le", "st"}
    | {"bin", "ibn", "al", "el", "ter", "ten"}
)


def name_split(full: str) -> tuple[str, str]:
    """A full name as one cell holds it, as (first, last): "Smith, John" and "John Smith" alike;
    titles dropped, a suffix kept with the family name ("John Smith Jr."), particles too
    ("Anna de la Cruz" → "Anna", "de la Cruz"), a couple kept together ("John & Jane Smith" →
    "John & Jane", "Smith"). One word is a first name, unless a title says otherwise."""
    full = " ".join(full.replace("\u00a0", " ").split())
    if not full:
        return "", ""
    if "," in full:
        last, _, first = full.partition(",")
        first_words = first.split()
        if first_words and _bare(first_words[-1]) in NAME_SUFFIXES:  # "Smith, John Jr."
            last = f"{last} {first_words.pop()}"
        if first_words or _bare(first) not in NAME_SUFFIXES:
            return " ".join(_untitled(first_words)), last.strip()
        return "", f"{last.strip()} {first.strip()}".strip()  # "Smith, Jr." has no first name
    words = _untitled(full.split())
    if len(words) < len(full.split()) and len(words) == 1:
        return "", words[0]  # "Mr. Smith": a title goes with the family name
    suffix = []
    while len(words) > 2 and _bare(words[-1]) in NAME_SUFFIXES:
        suffix.insert(0, words.pop())
    if len(words) == 1:
        return words[0], " ".join(suffix)
    start = len(words) - 1
    while start > 1 and _bare(words[start - 1]) in NAME_PARTICLES:
        start -= 1
    return " ".join(words[:start]), " ".join(words[start:] + suffix)


def _bare(word: str) -> str:
    return word.strip(".").casefold()


def _untitled(words: list[str]) -> list[str]:
    return words[1:] if len(words) > 1 and _bare(words[0]) in NAME_TITLES else words
