"""Generated Twilio webhook traffic: conversation-like texts per phone, odd fields, retries and
delivery reports, each a signed form ready to post."""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from urllib.parse import urlencode

from tests.helpers.settings import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, TEST_PUBLIC_BASE_URL
from tests.helpers.texting import SERVICE_NUMBER
from tests.helpers.twilio_signing import signature_of_fields

INBOUND_PATH = "/sms/inbound"
STATUS_PATH = "/sms/status"

ENROLL_WORDS = ["JOIN", "HOLA", "join", " Hola ", "hi", ""]
LANGUAGES = ["1", "2", "English", "español", "3", "①"]
NAMES = ["Maya", "María José", "skip", "李小龙", "O'Brien-Smith", "x" * 60, "👶"]
BIRTHS = [
    "8 months",
    "due 6/1",
    "3/14/2025",
    "2 years",
    "born yesterday",
    "10 weeks",
    "٣ months",
    "march ፩",
    "march 99999999999999999999",
    "1000 years 1000 days",
    "0",
    "-5 days",
]
SCHEDULES = ["1", "2", "3", "4", "5", "6", "7", "²", "monday", "99999999999"]
KEYWORDS = [
    "STOP",
    "START",
    "HELP",
    "PAUSE",
    "PAUSE 2",
    "PAUSE ፩",
    "PAUSE " + "9" * 4400,
    "RESUME",
    "TIME",
    "TIME 3",
    "AGE",
    "LANG",
    "LANG 2",
    "ADD",
    "YES",
    "stop",
    " Stop ",
    "ＳＴＯＰ",
    "STOP\x00",
    "UNSUBSCRIBE",
    "CANCEL",
    "ALTO",
    "AYUDA",
    "unstop",
    "INFO",
]
ODD_CHARS = (
    "\x00\x01\x07\x1b\x7f\x85\u200b\u200e\u200f\u202a\u202e\u2066\ufeff\ufffd"
    "፩²①٣١٢३๓"
    "😀👶🏽‍👩‍👧🇺🇸"
    "ñéüßçø漢字한국어עבריתالعربية"
    "\r\n\t "
)
ODD_SENDERS = [
    "12125550142",
    "2125550142",
    "12345",
    "898211",
    "+99999999999999999999999",
    "+1",
    "+",
    " ",
    "+1 (212) 555-0142",
    "+44 20 7946 0958",
    "+1212555\x000142",
    "whatsapp:+12125550142",
    "+1" + "9" * 60,
    "client:anonymous",
    "+٣٣١٢٣٤٥٦٧٨٩",
]
AREA_CODES = ["212", "415", "305", "312", "907", "808", "787"]
STATUSES = [
    "queued",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "accepted",
    "read",
    "DELIVERED",
    "",
    "\x00",
    "canceled",
]
ERROR_CODES = [
    "",
    "30005",
    "30006",
    "30003",
    "21610",
    "30007",
    "0",
    "-1",
    "9" * 40,
    "\x00",
    "３０００５",
    "30005\x00",
    "e" * 300,
]


@dataclass(frozen=True)
class Webhook:
    """One signed request: where it goes, its urlencoded body and its headers."""

    path: str
    content: bytes
    headers: dict[str, str]
    stored_sid: str | None  # the MessageSid inbound_message must hold once this is answered 2xx
    valid: bool  # signed with the account's auth token


def sign(path: str, fields: list[tuple[str, str]], *, valid: bool = True) -> Webhook:
    """A request carrying `fields`, signed like Twilio (or with a wrong signature)."""
    signature = signature_of_fields(TEST_PUBLIC_BASE_URL + path, fields, TEST_AUTH_TOKEN)
    if not valid:
        signature = signature[::-1]
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": signature,
    }
    return Webhook(path, urlencode(fields).encode(), headers, _stored_sid(path, fields), valid)


def _stored_sid(path: str, fields: list[tuple[str, str]]) -> str | None:
    """What the service stores for an inbound text (NUL dropped), if the form is a text."""
    if path != INBOUND_PATH:
        return None
    form = dict(fields)  # the last of a repeated field wins, as in starlette's FormData
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    if not sid or len(sid) > 64 or not form.get("From", "").strip():
        return None
    return sid.replace("\x00", "")


def text_form(number: str, body: str, sid: str) -> list[tuple[str, str]]:
    """The fields of Twilio's incoming-message webhook for one plain text."""
    return [
        ("ToCountry", "US"),
        ("SmsMessageSid", sid),
        ("NumMedia", "0"),
        ("MessageSid", sid),
        ("AccountSid", TEST_ACCOUNT_SID),
        ("From", number),
        ("To", SERVICE_NUMBER),
        ("Body", body),
        ("NumSegments", "1"),
    ]


@dataclass
class Parent:
    """One sender walking through enrollment and life in the program, with detours."""

    number: str
    step: int = 0
    sent: list[Webhook] = field(default_factory=list)


class Traffic:
    """A seeded stream of webhooks over `phones` senders; `real_sids` are outbox SIDs."""

    def __init__(self, rng: random.Random, *, phones: list[str], real_sids: list[str]) -> None:
        self.rng = rng
        self.parents = [Parent(number) for number in phones]
        self.real_sids = real_sids
        self._sids = 0

    def next(self) -> Webhook:
        """The next request: mostly a parent's next text, sometimes a retry or a report."""
        roll = self.rng.random()
        parent = self.rng.choice(self.parents)
        if roll < 0.15:
            return self._status()
        if roll < 0.20 and parent.sent:
            return self.rng.choice(parent.sent)  # Twilio retrying: same SID, same bytes
        if roll < 0.22:
            return sign(INBOUND_PATH, self._text_fields(parent), valid=False)
        webhook = sign(INBOUND_PATH, self._text_fields(parent))
        parent.sent.append(webhook)
        return webhook

    def _sid(self) -> str:
        self._sids += 1
        return f"SM{self.rng.getrandbits(96):024x}{self._sids:08x}"

    def _text_fields(self, parent: Parent) -> list[tuple[str, str]]:
        rng = self.rng
        sid = self._sid()
        if rng.random() < 0.03:
            sid = rng.choice([sid + "\x00", " " + sid + " ", sid * 3, ""])
        fields = [
            (name, value)
            for name, value in text_form(parent.number, self._body(parent), sid)
            if name not in ("NumMedia", "To")
        ]
        fields.append(("NumMedia", rng.choice(["0"] * 8 + ["1", "3", "፩", "²", "①", "٣", "", "x"])))
        fields.append(("To", rng.choice([SERVICE_NUMBER] * 9 + ["", "+1" + "0" * 70])))
        if rng.random() < 0.05:
            fields.append(("OptOutType", rng.choice(["STOP", "START", "HELP", "", "\x00", "X"])))
        if rng.random() < 0.03:
            fields.append(("Body", self._odd_text()))  # a repeated field
        if rng.random() < 0.02:
            fields = [(name, "") for name, _ in fields]  # every field empty
        return fields

    def _body(self, parent: Parent) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.55:
            # The enrollment walk, then life as a subscriber; a STOP or JOIN restarts it.
            script = [ENROLL_WORDS, LANGUAGES, NAMES, BIRTHS, SCHEDULES]
            choices = script[parent.step % len(script)] if parent.step < len(script) else KEYWORDS
            parent.step += 1
            body = rng.choice(choices)
        elif roll < 0.80:
            body = rng.choice(KEYWORDS)
        else:
            body = self._odd_text()
        if body.strip().upper() in {"STOP", "JOIN", "HOLA"}:
            parent.step = 1 if body.strip().upper() != "STOP" else 0
        return body

    def _odd_text(self) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return rng.choice(ODD_CHARS + "1a") * 5000
        if roll < 0.10:
            return ""
        pool = ODD_CHARS + string.printable
        chars = [
            rng.choice(pool) if rng.random() < 0.8 else _any_char(rng)
            for _ in range(rng.randint(1, 200))
        ]
        return "".join(chars)

    def _status(self) -> Webhook:
        rng = self.rng
        roll = rng.random()
        if roll < 0.4 and self.real_sids:
            sid = rng.choice(self.real_sids)
        elif roll < 0.7:
            sid = self._sid()
        else:
            sid = rng.choice(["", "\x00", "SM\x00", "x" * 500, self._odd_text()[:80]])
        fields = [
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("MessageStatus", rng.choice(STATUSES)),
            ("AccountSid", TEST_ACCOUNT_SID),
            ("To", rng.choice([p.number for p in self.parents])),
        ]
        if rng.random() < 0.6:
            fields.append(("ErrorCode", rng.choice(ERROR_CODES)))
        return sign(STATUS_PATH, fields)


def _any_char(rng: random.Random) -> str:
    """Any code point a form can carry (a lone surrogate cannot be encoded)."""
    while 0xD800 <= (point := rng.randint(0, 0x10FFFF)) <= 0xDFFF:
        pass
    return chr(point)


def phone_numbers(rng: random.Random, count: int) -> list[str]:
    """`count` senders: mostly US numbers in several time zones, a few odd ones."""
    odd = ODD_SENDERS[: max(1, count // 10)]
    usual = [f"+1{rng.choice(AREA_CODES)}555{n:04d}" for n in range(count - len(odd))]
    return usual + odd
