"""How a person is named on screen, in messages and on the timeline: one rule everywhere."""


def person_name(user, *, nobody: str = "nobody") -> str:
    """A user's full name, else their username; `nobody` when there is no user."""
    if user is None:
        return nobody
    return user.get_full_name() or user.get_username()
