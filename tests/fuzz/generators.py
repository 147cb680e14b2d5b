"""Seeded generators of hostile input for the fuzz tests (``random.Random`` only, no new
dependency): texts, callback data and web path values a careless or malicious client sends."""

from __future__ import annotations

import random
import string

from bot.telegram.callbacks import CALLBACK_DATA_LIMIT
from dialogs.events import Action
from dialogs.flows import FLOWS
from services.queue.rules import QueueAction

#: The seed of every fuzz run; ``FUZZ_SEED=<n>`` replays another.
DEFAULT_SEED = 20261203

#: Every callback prefix of `bot.telegram.callbacks` (a test checks the list is complete).
PREFIXES = ("f", "m", "lang", "q", "sv", "qs", "ap", "tr", "rf", "ir", "pl", "hv")

#: Action words the handlers know, and some they do not.
ACTIONS = (
    *(a.value for a in Action),
    *(a.value for a in QueueAction),
    "open", "show", "close", "approve", "decline", "yes", "no", "move", "cancel",
    "attended", "no_show", "teacher", "flow", "queue", "today", "plans", "logbook",
    "appointments", "referrals", "web_login", "nl", "en", "ar", "tr", "pl", "uk", "xx", "",
)  # fmt: skip

_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200f\u200e"
_CONTROLS = "".join(chr(c) for c in (*range(0, 32), 127, 0x85, 0x2028, 0x2029, 0xFEFF))
_EMOJI = "😀🎉👩‍👩‍👧‍👦🏳️‍🌈🇳🇱✅❌🙈"
_RTL = "مرحبا بك في المدرسة שלום"
_SCRIPTS = "Zoë ÇŞĞİıöü Łódź Привіт 漢字 ﷽ 𝕏 \U0010ffff"
_COMMANDS = (
    *("/start", "/stop", "/login", "/help", "/taal", "/language", "/menu", "/foo", "/START"),
    *("/start@trajectbot_test_bot", "/start@otherbot", "/", "//", "/stop now"),
)


def _alphabet(rng: random.Random) -> str:
    return rng.choice(
        (string.printable, _BIDI + "abc", _CONTROLS + "ab", _EMOJI, _RTL, _SCRIPTS, "0123456789-")
    )


def text(rng: random.Random) -> str:
    """A message text: empty, whitespace, huge, controls, bidi, emoji, RTL, commands."""
    kind = rng.randrange(12)
    if kind == 0:
        return rng.choice(("", " ", "\n", "\t\t", "\u200b", "\x00"))
    if kind == 1:
        return rng.choice(_alphabet(rng)) * rng.choice((4097, 10_000))
    if kind == 2:
        return rng.choice(_COMMANDS)
    if kind == 3:
        return f"/start {token(rng)}"
    if kind == 4:
        return f"{rng.choice(_COMMANDS)} {short(rng)}"
    if kind == 5:
        return "".join(rng.choice(_alphabet(rng)) for _ in range(rng.randrange(1, 5000)))
    if kind == 6:
        return rng.choice(("1", "0", "-1", "99999999999999999999", "2B", "lln01", "Daan", "ja"))
    return short(rng)


def short(rng: random.Random) -> str:
    """A short mixed text (what a person types as an answer)."""
    alphabet = _alphabet(rng)
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 40)))


def token(rng: random.Random) -> str:
    """A deep-link payload that is no valid invite."""
    return rng.choice(
        (
            "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(43)),
            "x" * rng.randrange(1, 300),
            short(rng),
            "web_" + short(rng),
            "login-" + str(rng.randrange(10**20)),
        )
    )


def number(rng: random.Random, known: list[int]) -> str:
    """An id as a client may send it: a real one, huge, negative, zero, letters."""
    choice = rng.randrange(9)
    if choice < 3 and known:
        return str(rng.choice(known))
    return rng.choice(
        (
            str(rng.randrange(1, 50)),
            str(2**31 - 1 + rng.randrange(3)),
            str(2**63 + rng.randrange(3)),
            str(-rng.randrange(1, 2**40)),
            "0",
            str(10 ** rng.randrange(20, 80)),
            rng.choice(("abc", "1e9", "0x10", "٣", "1.5", "", "%00", "NaN", " 1")),
        )
    )


def callback_data(rng: random.Random, known: list[int], seen: list[str]) -> str:
    """Callback data: a real button of this chat, a mutated one, a forged typed payload, bytes."""
    choice = rng.randrange(10)
    if choice < 3 and seen:
        return rng.choice(seen)
    if choice < 5 and seen:
        parts = rng.choice(seen).split(":")
        index = rng.randrange(len(parts))
        parts[index] = rng.choice((number(rng, known), short(rng), "", parts[index] * 2))
        if rng.random() < 0.2:
            parts = parts[:-1] if rng.random() < 0.5 else [*parts, number(rng, known)]
        return _fit(":".join(parts))
    if choice < 9:
        prefix = rng.choice(PREFIXES)
        fields = [rng.choice(ACTIONS) if rng.random() < 0.7 else short(rng)]
        if prefix == "f":
            fields = [rng.choice((*FLOWS, "nope")), *fields]
        fields += [number(rng, known) for _ in range(rng.randrange(0, 4))]
        return _fit(":".join((prefix, *fields)))
    raw = bytes(rng.randrange(256) for _ in range(rng.randrange(0, CALLBACK_DATA_LIMIT + 1)))
    return _fit(raw.decode("utf-8", errors="replace"))


def _fit(data: str) -> str:
    """Cut to Telegram's 64 bytes (Telegram never delivers more)."""
    encoded = data.encode("utf-8")[:CALLBACK_DATA_LIMIT]
    return encoded.decode("utf-8", errors="ignore")


def form_value(rng: random.Random, known: list[int]) -> str:
    """A form field's value: an id, a date, a word, hostile text (sometimes huge)."""
    choice = rng.randrange(8)
    if choice < 2:
        return number(rng, known)
    if choice == 2:
        return rng.choice(("2026-12-03", "2026-02-30", "9999-99-99", "12:00", "25:61", "on"))
    if choice == 3:
        return rng.choice(("nl", "en", "ar", "xx", "take", "accept", "decline", "true", "-1"))
    return text(rng)


def query_string(rng: random.Random, fields: list[str], known: list[int]) -> str:
    """``?a=b&…`` with field names of the app's forms and hostile values (URL-encoded)."""
    from urllib.parse import urlencode

    names = [*fields, "next", "page", "q", "lang", "school", "status", "from", "to"]
    pairs = [(rng.choice(names), form_value(rng, known)[:500]) for _ in range(rng.randrange(1, 4))]
    if rng.random() < 0.2:
        pairs.append(("next", rng.choice(("//evil.example", "https://evil.example", "/\\x"))))
    return "?" + urlencode(pairs)


def path_value(rng: random.Random, template: str, known: list[int]) -> str:
    """A value for the path parameter ``template`` (``{id:int}``, ``{token}``): ids of every
    kind, and for a text parameter words, tokens and hostile text (escaped as a browser does)."""
    if ":int}" in template or rng.random() < 0.4:
        return number(rng, known)
    from urllib.parse import quote

    word = rng.choice(ACTIONS) if rng.random() < 0.5 else rng.choice((token(rng), short(rng)))
    return quote(word, safe="")
