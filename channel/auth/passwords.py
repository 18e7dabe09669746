"""Password rules: at least 8 characters, and not guessable (zxcvbn: its lists of common
passwords, names, keyboard patterns and dates, scored 0-4; we want at least 2)."""
from zxcvbn import zxcvbn

MIN_LENGTH = 8
MAX_LENGTH = 200
MIN_SCORE = 2


def password_problem(password: str, user_inputs=()) -> str | None:
    """A code naming what is wrong with the password, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return "too_short"
    if len(password) > MAX_LENGTH:
        return "too_long"
    # zxcvbn is slow on very long input; the first 100 characters tell enough.
    if zxcvbn(password[:100], user_inputs=[u for u in user_inputs if u])["score"] < MIN_SCORE:
        return "common"
    return None
