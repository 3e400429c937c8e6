"""SMS encoding and segment counting: GSM 03.38 (7-bit) or UCS-2, as carriers count them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# GSM 03.38 basic character set (the escape character 0x1B is left out: it only introduces
# the extension table).
GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each is sent as ESC + character, so it costs two septets.
GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM_SINGLE, GSM_MULTI = 160, 153  # septets; a multipart header takes 7 of them
UCS2_SINGLE, UCS2_MULTI = 70, 67  # UTF-16 code units

Encoding = Literal["GSM-7", "UCS-2"]


@dataclass(frozen=True)
class SegmentInfo:
    """How a text goes over the air: its encoding, its length in units, its segment count."""

    encoding: Encoding
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int
    non_gsm: tuple[str, ...]  # the distinct characters that force UCS-2, in order of appearance


def is_gsm(char: str) -> bool:
    """Whether one character can be sent in GSM-7 (basic or extension table)."""
    return char in GSM_BASIC or char in GSM_EXTENSION


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    if encoding == "GSM-7":
        return [2 if char in GSM_EXTENSION else 1 for char in text]
    return [2 if ord(char) > 0xFFFF else 1 for char in text]


def _count_segments(costs: list[int], single: int, multi: int) -> int:
    total = sum(costs)
    if total == 0:
        return 0
    if total <= single:
        return 1
    # Phones never split an escape sequence or a surrogate pair across two parts, so pack
    # whole characters rather than dividing the unit count.
    segments, used = 1, 0
    for cost in costs:
        if used + cost > multi:
            segments, used = segments + 1, 0
        used += cost
    return segments


def analyze(text: str) -> SegmentInfo:
    """Encoding, length and segment count of `text` as one SMS (160/153 GSM-7, 70/67 UCS-2)."""
    non_gsm = tuple(dict.fromkeys(char for char in text if not is_gsm(char)))
    if non_gsm:
        costs = _unit_costs(text, "UCS-2")
        segments = _count_segments(costs, UCS2_SINGLE, UCS2_MULTI)
        return SegmentInfo("UCS-2", sum(costs), segments, non_gsm)
    costs = _unit_costs(text, "GSM-7")
    return SegmentInfo("GSM-7", sum(costs), _count_segments(costs, GSM_SINGLE, GSM_MULTI), ())


def in_words(info: SegmentInfo, *, language_name: str = "") -> str:
    """How many texts a message costs, for people: "1 text (40 characters left)", or
    "2 texts (Spanish uses special characters such as ’: a text then holds 67 characters)"."""
    if info.segments == 0:
        return "empty"
    count = "1 text" if info.segments == 1 else f"{info.segments} texts"
    if info.encoding == "GSM-7":
        if info.segments == 1:
            left = GSM_SINGLE - info.units
            return f"{count} ({left} character{'' if left == 1 else 's'} left)"
        return count
    who = f"{language_name} uses" if language_name else "uses"
    chars = " ".join(info.non_gsm[:3])
    holds = UCS2_SINGLE if info.segments == 1 else UCS2_MULTI
    return (
        f"{count} ({who} special characters such as {chars}: a text then holds {holds} characters)"
    )


def describe_char(char: str) -> str:
    """A readable name for a character in a report, e.g. `'’' (U+2019)`."""
    return f"{char!r} (U+{ord(char):04X})"
