"""Catalogs per language and the rendering of `Text` in one reader's locale (Babel/CLDR).

Kept channel-free so Telegram, the terminal and the web chat render identically.
"""

from __future__ import annotations

import gettext
import logging
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_time, format_timedelta, match_skeleton
from babel.lists import format_list
from babel.numbers import format_decimal
from babel.support import Translations

from dialogs.text import Param, Text

log = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("nl", "en", "ar", "tr", "pl", "uk")
DEFAULT_LANGUAGE = "nl"
#: Each language's own name, for the first screen (ux.md).
LANGUAGE_NAMES: dict[str, str] = {
    "nl": "Nederlands",
    "en": "English",
    "ar": "العربية",
    "tr": "Türkçe",
    "pl": "Polski",
    "uk": "Українська",
}
RTL_LANGUAGES = frozenset({"ar"})
SCHOOL_TIMEZONE = ZoneInfo("Europe/Amsterdam")
DEFAULT_LOCALES_PATH = Path(__file__).resolve().parent.parent / "locales"

# First-strong isolate / pop directional isolate: keeps Latin names and digits from
# scrambling the order of right-to-left sentences (Telegram picks direction per message).
FSI, PDI = "\u2068", "\u2069"


def pick_language(*candidates: str | None) -> str:
    """The first supported language among candidates (``nl-BE`` counts as ``nl``), else nl."""
    for candidate in candidates:
        if candidate:
            base = candidate.replace("_", "-").split("-")[0].lower()
            if base in LANGUAGES:
                return base
    return DEFAULT_LANGUAGE


@dataclass(frozen=True)
class Catalog:
    """One language's translations plus its CLDR locale."""

    language: str
    translations: gettext.NullTranslations
    locale: Locale = field(repr=False)
    #: Small whole numbers as this locale writes them ("Question 3 of 12" on every step):
    #: formatted once each, not by Babel on every render.
    _numbers: dict[int, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def rtl(self) -> bool:
        """Whether text in this language runs right to left."""
        return self.language in RTL_LANGUAGES

    def gettext(self, message: str) -> str:
        """Translate one message id."""
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        """Translate with this language's plural rule."""
        return self.translations.ngettext(singular, plural, count)

    def render(self, text: Text) -> str:
        """The text in this language, placeholders formatted for this locale."""
        if text.literal:
            template = text.msgid
        elif text.plural is not None and text.count is not None:
            template = self.ngettext(text.msgid, text.plural, text.count)
        else:
            template = self.gettext(text.msgid)
        values = {key: self._param(value) for key, value in text.params.items()}
        try:
            return template.format_map(values)
        except (KeyError, IndexError, ValueError):
            # A broken translation must not cost the reader the message: fall back to the
            # source wording. The catalog tests make this unreachable for shipped catalogs.
            log.warning("broken translation for %r in %s", text.msgid[:40], self.language)
            source = text.plural if text.plural and text.count != 1 else text.msgid
            return source.format_map(values)

    def _param(self, value: Param) -> str:
        # Right to left, every value (a name, a number, a whole date, a label) is isolated
        # exactly once; a text with placeholders of its own standing in a placeholder isolates
        # its values itself and is not isolated again. An isolate inside an isolate hides its
        # letters from the outer one's first-strong rule: "Booked: {appointment}" with
        # "{kind}, {when}" inside came out left to right (issue 14).
        if isinstance(value, Text) and value.literal and value.msgid == "{value}":
            # `Text.raw(x)`: shown exactly as `x` itself would be (isolated once, not twice).
            return self._param(value.params["value"])
        if isinstance(value, Text) and not value.literal and value.params:
            return self.render(value)
        if isinstance(value, tuple):
            # Each item isolated once ("A, B and C": the list's words are the reader's).
            return format_list([self._param(item) for item in value], locale=self.locale)
        if isinstance(value, Text):
            shown = self.render(value)
        elif isinstance(value, datetime):
            local = value.astimezone(SCHOOL_TIMEZONE) if value.tzinfo else value
            # "dinsdag 1 december 10:30": the locale's own way of joining a date and a time.
            day = format_date(local, _long_day_pattern(self.locale), locale=self.locale)
            clock = format_time(local, "short", locale=self.locale)
            shown = str(self.locale.datetime_formats["short"]).format(clock, day)
        elif isinstance(value, date):
            shown = format_date(value, _long_day_pattern(self.locale), locale=self.locale)
        elif isinstance(value, time):
            # A school-local time of day: "10:30" in nl, the locale's own short form elsewhere.
            shown = format_time(value, "short", locale=self.locale)
        elif isinstance(value, timedelta):
            # "15 minutes", "1 minuut": whole minutes or more, never rounded up to hours.
            shown = format_timedelta(
                value, granularity="minute", threshold=60, format="long", locale=self.locale
            )
        elif isinstance(value, int):
            shown = self._number(value)
        else:
            shown = value
        return f"{FSI}{shown}{PDI}" if self.rtl else shown

    def _number(self, value: int) -> str:
        shown = self._numbers.get(value)
        if shown is None:
            shown = format_decimal(value, locale=self.locale)
            if -_KEPT_NUMBERS <= value <= _KEPT_NUMBERS:
                self._numbers[value] = shown
        return shown


#: Whole numbers kept formatted per catalog: counts, positions, days (bounded memory).
_KEPT_NUMBERS = 1000


@lru_cache(maxsize=16)
def _long_day_pattern(locale: Locale) -> str:
    """The locale's weekday-day-month pattern with the names written out in full.

    CLDR has no "EEEE d MMMM" skeleton for most locales and Babel does not widen fields when it
    matches one, so the closest pattern is widened here: "dinsdag 1 december", "Tuesday,
    December 1", "1 Aralık Salı".
    """
    skeletons = locale.datetime_skeletons
    key = match_skeleton("MMMMEd", skeletons) or "MMMEd"
    pattern = skeletons[key].pattern
    pattern = re.sub(r"E+|c+", "EEEE", pattern)
    return re.sub(r"(?<!M)M{3}(?!M)|(?<!L)L{3}(?!L)", "MMMM", pattern)


class Catalogs:
    """Loads each language's compiled catalog once; built by the composition root."""

    def __init__(self, path: Path = DEFAULT_LOCALES_PATH, domain: str = "messages") -> None:
        self._path = path
        self._domain = domain
        self._loaded: dict[str, Catalog] = {}

    def get(self, language: str | None) -> Catalog:
        """The catalog for ``language`` (unsupported or missing: Dutch)."""
        code = pick_language(language)
        if code not in self._loaded:
            translations = Translations.load(str(self._path), [code], self._domain)
            self._loaded[code] = Catalog(code, translations, Locale.parse(code))
        return self._loaded[code]

    def missing(self) -> list[str]:
        """Languages whose compiled catalog (.mo) is not on disk (English may rely on ids)."""
        return [
            code
            for code in LANGUAGES
            if not (self._path / code / "LC_MESSAGES" / f"{self._domain}.mo").exists()
        ]
