"""How strong a new password must be: zxcvbn's estimate of the guesses it would take.

Rules of the kind "letters and digits" let "password12" and "1234567890a" through; zxcvbn
knows common passwords, names, keyboard rows, repeats, sequences and dates. Its feedback
comes in fixed English sentences, mapped here to text keys so the reader gets it in
Spanish or English (core/platform/locales/<lang>/passwords.json).
"""

from __future__ import annotations

from collections.abc import Iterable

from core.platform.errors import ValidationError

MIN_LENGTH = 10
MAX_BYTES = 72  # bcrypt's limit; longer passwords are refused, not truncated
MIN_SCORE = 3  # zxcvbn's 0–4 scale: 3 is "safely unguessable" (≈10^8 guesses and up)
ZXCVBN_INPUT = 100  # the estimator's cost grows with length; the score is settled long before

FEEDBACK_KEYS = {
    "Use a few words, avoid common phrases.": "password.hint.few_words",
    "No need for symbols, digits, or uppercase letters.": "password.hint.no_need_symbols",
    "Add another word or two. Uncommon words are better.": "password.hint.add_word",
    "Straight rows of keys are easy to guess.": "password.hint.straight_rows",
    "Short keyboard patterns are easy to guess.": "password.hint.keyboard_pattern",
    "Use a longer keyboard pattern with more turns.": "password.hint.longer_pattern",
    'Repeats like "aaa" are easy to guess.': "password.hint.repeats_char",
    'Repeats like "abcabcabc" are only slightly harder to guess than "abc".': (
        "password.hint.repeats_word"
    ),
    "Avoid repeated words and characters.": "password.hint.avoid_repeats",
    'Sequences like "abc" or "6543" are easy to guess.': "password.hint.sequences",
    "Avoid sequences.": "password.hint.avoid_sequences",
    "Recent years are easy to guess.": "password.hint.recent_years",
    "Avoid recent years.": "password.hint.avoid_recent_years",
    "Avoid years that are associated with you.": "password.hint.avoid_your_years",
    "Dates are often easy to guess.": "password.hint.dates",
    "Avoid dates and years that are associated with you.": "password.hint.avoid_dates",
    "This is a top-10 common password.": "password.hint.top10",
    "This is a top-100 common password.": "password.hint.top100",
    "This is a very common password.": "password.hint.very_common",
    "This is similar to a commonly used password.": "password.hint.similar_common",
    "A word by itself is easy to guess.": "password.hint.single_word",
    "Names and surnames by themselves are easy to guess.": "password.hint.names_alone",
    "Common names and surnames are easy to guess.": "password.hint.common_names",
    "Capitalization doesn't help very much.": "password.hint.capitalization",
    "All-uppercase is almost as easy to guess as all-lowercase.": "password.hint.all_upper",
    "Reversed words aren't much harder to guess.": "password.hint.reversed",
    "Predictable substitutions like '@' instead of 'a' don't help very much.": (
        "password.hint.substitutions"
    ),
}
GENERIC_HINT = "password.hint.add_word"


def hints(password: str, user_inputs: Iterable[str] = ()) -> tuple[int, list[str]]:
    """zxcvbn's score (0–4) and its feedback as text keys, warning first."""
    words = [w for value in user_inputs for w in _parts(value)]
    from zxcvbn import zxcvbn  # its word lists take ~50 ms to load: only when judging

    result = zxcvbn(password[:ZXCVBN_INPUT], user_inputs=words)
    feedback = result.get("feedback") or {}
    sentences = [feedback.get("warning") or ""] + list(feedback.get("suggestions") or [])
    keys: list[str] = []
    for sentence in sentences:
        key = FEEDBACK_KEYS.get(sentence) if sentence else None
        if key and key not in keys:
            keys.append(key)
    return int(result["score"]), keys


def _parts(value: str) -> list[str]:
    """An address or a name as the words someone would build a password from."""
    value = (value or "").lower()
    pieces = value.replace("@", " ").replace(".", " ").replace("-", " ").replace("_", " ").split()
    return [value, *pieces] if value else []


def check(password: str, user_inputs: Iterable[str] = ()) -> None:
    """Refuse a password that is too short, too long, padded, or easy to guess."""
    if len(password) < MIN_LENGTH:
        raise ValidationError("error.password_short", n=MIN_LENGTH)
    if len(password.encode("utf-8")) > MAX_BYTES:
        raise ValidationError("error.password_long", n=MAX_BYTES)
    if password != password.strip():
        # The library strips passwords at sign-in; a padded password could never be typed.
        raise ValidationError("error.password_spaces")
    score, keys = hints(password, user_inputs)
    if score < MIN_SCORE:
        raise ValidationError("error.password_weak", hint_keys=tuple(keys or [GENERIC_HINT]))
