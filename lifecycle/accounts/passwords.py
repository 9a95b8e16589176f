"""What makes a password acceptable: its length, not the person's e-mail, not guessable.

The one rule for every way a password is set (profile, admin, command line, reset).
Guessability is zxcvbn's estimate: it knows the common and breached passwords, words,
names, keyboard walks, dates and l33t spellings, and the person's own words.
"""

from __future__ import annotations

import re
import threading

from zxcvbn import zxcvbn

MIN_LENGTH = 10
MAX_LENGTH = 200
# zxcvbn's score 3 is about 10^8 guesses or more: out of reach of online guessing and
# slow against our argon2 hashes offline. Below it are the common passwords.
MIN_SCORE = 3
# zxcvbn refuses longer input (its time grows fast with length); judging the first 72
# characters keeps a check under a tenth of a second.
CHECKED_LENGTH = 72
# Words of this site: a password built on the product's name is among the first tried
# (and so is the public demo password, "lifecycle-demo").
SITE_WORDS = ("lifecycle",)
# zxcvbn keeps the person's words in a module-level dictionary while it checks, so two
# threads checking at once would see each other's.
_zxcvbn_lock = threading.Lock()


def _plain(text: str) -> str:
    """Lower-case letters and digits only, so separators do not hide a match."""
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _personal_words(email: str, name: str) -> list[str]:
    local, _, domain = email.lower().partition("@")
    words = [email.lower(), local, domain.split(".")[0]]
    words += re.split(r"[^0-9a-z]+", local)
    words += name.lower().split()
    words += [_plain(w) for w in words]
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


def contains_email(password: str, email: str) -> bool:
    """The password holds the e-mail address or its local part, however spelt: with
    other separators or none, in any case, or its words in another order."""
    local = email.partition("@")[0]
    plain = _plain(password)
    if any(len(_plain(p)) >= 4 and _plain(p) in plain for p in (email, local)):
        return True
    words = [w for w in re.split(r"[^0-9a-z]+", local.lower()) if len(w) >= 3]
    return len(words) > 1 and all(w in plain for w in words)


def password_problem(password: str, *, email: str = "", name: str = "") -> str | None:
    """Why `password` cannot be the password of the person with `email`, or None."""
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters"
    if password.strip() != password:
        return "must not start or end with spaces"
    if email and contains_email(password, email):
        return "must not contain your e-mail address or the part before the @"
    words = [*_personal_words(email, name), *SITE_WORDS]
    with _zxcvbn_lock:
        result = zxcvbn(password[:CHECKED_LENGTH], user_inputs=words)
    if result["score"] >= MIN_SCORE:
        return None
    warning = result["feedback"]["warning"].strip().rstrip(".")
    why = f" ({warning[:1].lower()}{warning[1:]})" if warning else ""
    return (
        f"is too easy to guess{why}: use a longer phrase of three or four "
        "unrelated words"
    )
