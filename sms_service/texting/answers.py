"""Read a parent's answers in any of the languages: names, birth or due dates, ages, menu picks."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from content.ages import Birth, BirthProblem, checked_birth
from content.languages import all_words, languages, merged
from content.languages import language as language_named
from content.schedule_menu import EVENING_HOUR, MORNING_HOUR, SCHEDULE_MENU

MAX_NAME_LENGTH = 20
# Anything longer is a message, not a first name.
_MAX_NAME_INPUT = 60
DEFAULT_PAUSE_WEEKS = 4
MAX_PAUSE_WEEKS = 12

# Every language's words, merged: an answer is read whatever language it is in, as parents
# mix them ("8 meses", "Sunday mañana"). The words live in content/languages/<code>.yaml.
MONTHS: dict[str, int] = merged("months")
WEEKDAYS: dict[str, int] = merged("weekdays")
_NUMBER_WORDS: dict[str, int] = merged("numbers")
_UNITS: dict[str, str] = merged("units")
# Longest first, so "DUE DATE 6/1" loses "DUE DATE", not only "DUE".
_DUE_WORDS = tuple(sorted(all_words("due"), key=lambda word: (-len(word), word)))
_SKIP_WORDS = all_words("skip")
_NEWBORN = all_words("newborn")
_LANGUAGES = {answer: each.code for each in languages().values() for answer in each.menu_answers}
_MORNING = all_words("morning")
_EVENING = all_words("evening")
_FILLER = all_words("filler")

# re.ASCII: \d is 0-9 only. fold() has already turned other decimal digits into these, and
# a digit such as "፩" (a number, but not a decimal digit: int() refuses it) must not match.
_NUMERIC_DATE = re.compile(r"^(\d{1,4})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?$", re.ASCII)
# One "<amount> <unit>" of an age, matched where the previous one ended (never searched for:
# a search over a long run of digits or letters takes quadratic time).
_AGE_PART = re.compile(r"(\d+(?:[.,]\d+)?|[A-Z]+) ([A-Z]+)(?: |$)", re.ASCII)
# More digits than this is not a day, year, menu number or week count anyone means.
_MAX_DIGITS = 4


def fold(text: str) -> str:
    """Upper case without accents, punctuation or repeated spaces: how answers are compared.

    Decimal digits of any script become ASCII ones ("٣" -> "3"; NFKD already turns "²" and
    "①" into "2" and "1"). Digits that are not decimal ("፩") stay as they are, and the
    parsers below take only ASCII digits for a number.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() else char
        for char in decomposed
        if not unicodedata.combining(char) and char not in "'’"
    )  # "don't" -> DONT
    kept = "".join(char if char.isalnum() or char in "/-." else " " for char in plain.upper())
    return " ".join(kept.split()).strip(" .-")  # "Stop!." -> STOP, not "STOP "


def _number(raw: str, max_digits: int = _MAX_DIGITS) -> int | None:
    """The value of `raw` when it is ASCII digits, at most `max_digits` of them after any
    leading zeros, otherwise None: int() then never sees a digit it refuses ("፩") or a
    number too long to convert (past 4,300 digits)."""
    if not _is_digits(raw):
        return None
    significant = raw.lstrip("0") or "0"
    return int(significant) if len(significant) <= max_digits else None


def _is_digits(raw: str) -> bool:
    return bool(raw) and raw.isascii() and raw.isdigit()


def parse_birth(text: str, *, today: date, language: str) -> Birth | BirthProblem:
    """A birth date, age or due date in `text` ("3/14/2025", "8 meses", "due 6/1")."""
    folded = fold(text)
    due = False
    for word in _DUE_WORDS:
        if folded == word or folded.startswith(word + " "):
            folded, due = folded[len(word) :].strip(), True
            break
    if not due and folded in _NEWBORN:
        return Birth(today, is_expected=False)
    found = _parse_date(folded, today=today, language=language, future=due)
    if found is None:
        span = _parse_duration(folded.removeprefix("IN ").removeprefix("EN "))
        if span is None:
            return BirthProblem.UNREADABLE
        found = _shift(today, span, forward=due)
    return checked_birth(found, today=today)


def _parse_date(folded: str, *, today: date, language: str, future: bool) -> date | None:
    numeric = _NUMERIC_DATE.match(folded)
    if numeric:
        return _numeric_date(numeric, today=today, language=language, future=future)
    words = [word for word in folded.replace(",", " ").split() if word not in {"DE", "DEL"}]
    if not 2 <= len(words) <= 3:
        return None
    month: int | None = None
    day: int | None = None
    if words[0] in MONTHS:  # March 14 (2025)
        month, day = MONTHS[words[0]], _number(words[1], 2)
    elif words[1] in MONTHS:  # 14 marzo (2025)
        month, day = MONTHS[words[1]], _number(words[0], 2)
    if month is None or day is None:
        return None
    year = _year(words[2]) if len(words) == 3 else None
    if len(words) == 3 and year is None:
        return None
    return _complete(year, month, day, today=today, future=future)


def _numeric_date(match: re.Match[str], *, today: date, language: str, future: bool) -> date | None:
    first, second, third = match.group(1), match.group(2), match.group(3)
    if len(first) == 4:  # 2025-03-14
        if third is None:
            return None
        return _valid(int(first), int(second), int(third))
    year = _year(third) if third is not None else None
    if third is not None and year is None:
        return None
    a, b = int(first), int(second)
    # US English writes month/day; Spanish day/month. Take the other reading when the
    # first cannot be a date (3/14 is March 14 in either language).
    orders = [(b, a), (a, b)] if language_named(language).day_first else [(a, b), (b, a)]
    for month, day in orders:
        found = _complete(year, month, day, today=today, future=future)
        if found is not None:
            return found
    return None


def _year(raw: str) -> int | None:
    year = _number(raw) if len(raw) in (2, 4) else None
    if year is None:
        return None
    return 2000 + year if len(raw) == 2 else year


def _complete(year: int | None, month: int, day: int, *, today: date, future: bool) -> date | None:
    """The date; without a year, the nearest one ahead (a due date) or behind (a birthday)."""
    if year is not None:
        return _valid(year, month, day)
    this_year = _valid(today.year, month, day)
    if this_year is None:
        # February 29 outside a leap year: try the neighbouring years.
        for offset in (1, -1, 2, -2, 3, -3):
            found = _valid(today.year + offset, month, day)
            if found is not None:
                return found
        return None
    if future and this_year < today:
        return _valid(today.year + 1, month, day)
    if not future and this_year > today:
        return _valid(today.year - 1, month, day)
    return this_year


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):  # OverflowError: a number past a C long
        return None


@dataclass(frozen=True)
class _Span:
    years: int = 0
    months: int = 0
    days: int = 0


def _parse_duration(folded: str) -> _Span | None:
    """'8 months', '1 year and 3 months', '2 anos', '1.5 years', 'ten weeks'."""
    # "8 months old", "she is 8 months", "hace 8 meses", "tiene 1 ano y 3 meses"
    text = re.sub(r"\b(AND|Y|OLD|AGO|IS|SHE|HE|ITS|HACE|TIENE|DE EDAD)\b", " ", folded)
    text = re.sub(r"(\d)([A-Z])", r"\1 \2", text)  # 8MONTHS, 2YRS
    text = " ".join(text.split())
    if not text:
        return None
    span = _Span()
    position = 0
    while position < len(text):
        match = _AGE_PART.match(text, position)
        if match is None:
            return None
        position = match.end()
        amount_raw, unit_raw = match.group(1), match.group(2)
        unit = _UNITS.get(unit_raw)
        amount = _amount(amount_raw)
        if unit is None or amount is None:
            return None
        span = _add(span, unit, amount)
    return span


def _amount(raw: str) -> float | None:
    if raw in _NUMBER_WORDS:
        return float(_NUMBER_WORDS[raw])
    if not raw[:1].isdigit():  # float() would read INF and NAN
        return None
    try:
        value = float(raw.replace(",", "."))
    except ValueError:
        return None
    return value if 0 <= value <= 1000 else None


def _add(span: _Span, unit: str, amount: float) -> _Span:
    if unit == "years":
        whole_months = round(amount * 12)
        return _Span(span.years, span.months + whole_months, span.days)
    if unit == "months":
        whole = int(amount)
        extra_days = round((amount - whole) * 30)
        return _Span(span.years, span.months + whole, span.days + extra_days)
    if unit == "weeks":
        return _Span(span.years, span.months, span.days + round(amount * 7))
    return _Span(span.years, span.months, span.days + round(amount))


def _shift(today: date, span: _Span, *, forward: bool) -> date:
    """`today` moved by `span`; past the calendar's ends (1000 years, many times over), its
    first or last day, which checked_birth() then finds too old or too far ahead."""
    sign = 1 if forward else -1
    months = today.year * 12 + (today.month - 1) + sign * (span.years * 12 + span.months)
    year, month = divmod(months, 12)
    if not date.min.year <= year <= date.max.year:
        return date.max if forward else date.min
    day = today.day
    while True:  # the 31st of a shorter month becomes its last day
        found = _valid(year, month + 1, day)
        if found is not None:
            break
        day -= 1
    try:
        return found + timedelta(days=sign * span.days)
    except OverflowError:
        return date.max if forward else date.min


class Skip:
    """The parent chose not to give a name."""


SKIP = Skip()


def parse_name(text: str) -> str | Skip | None:
    """A child's first name (at most 20 characters), SKIP, or None when it is not a name."""
    folded = fold(text)
    if folded in _SKIP_WORDS:
        return SKIP
    cleaned = " ".join(text.replace("\x00", "").split())
    if not cleaned or len(cleaned) > _MAX_NAME_INPUT:
        return None
    allowed = all(char.isalpha() or char in " -'’." for char in cleaned)
    if not allowed or not any(char.isalpha() for char in cleaned):
        return None
    if len(cleaned) > MAX_NAME_LENGTH:
        cleaned = cleaned.split()[0][:MAX_NAME_LENGTH]
    return cleaned.strip(" -'’.") or None


def parse_language(text: str) -> str | None:
    """A language code from a language-menu answer (1, 2, English, español)."""
    return _LANGUAGES.get(fold(text))


def parse_schedule(text: str) -> tuple[int, int] | None:
    """(weekday, hour) of a menu choice, by number or words ('Monday evening', 'lunes mañana')."""
    folded = fold(text)
    if _is_digits(folded):
        number = _number(folded)
        return SCHEDULE_MENU.get(number) if number is not None else None
    words = [word for word in folded.split() if word not in _FILLER]
    days = [WEEKDAYS[word] for word in words if word in WEEKDAYS]
    times = {word for word in words if word not in WEEKDAYS}
    if len(days) != 1 or not times <= (_MORNING | _EVENING):
        return None
    hour = EVENING_HOUR if times & _EVENING and not times & _MORNING else MORNING_HOUR
    # Only the menu's choices: the confirmation texts are sized for those days.
    choice = (days[0], hour)
    return choice if choice in SCHEDULE_MENU.values() else None


def parse_pause_weeks(argument: str) -> int:
    """The weeks of a PAUSE command ('PAUSE 2'); 4 without a number, kept within 1-12."""
    folded = fold(argument)
    if _is_digits(folded):
        weeks = _number(folded)
        return max(1, min(MAX_PAUSE_WEEKS, MAX_PAUSE_WEEKS if weeks is None else weeks))
    if folded in _NUMBER_WORDS:
        return max(1, min(MAX_PAUSE_WEEKS, _NUMBER_WORDS[folded]))
    return DEFAULT_PAUSE_WEEKS
