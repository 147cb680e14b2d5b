"""The domain words are rendered the same way in every catalog (docs/glossary.md).

For each fixed term, every message whose English source uses the term must use the glossary's
rendering in each language. The renderings are matched by stem, so inflected forms count (Polish
and Ukrainian cases, Arabic suffixes). Code in backticks and identifiers (``mentor_of``, the
``trajectbot queue`` command) are not wording and are left out of the match.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent

#: English term (regex) → the stem (or stems: Arabic broken plurals) each catalog must contain;
#: the full renderings and the
#: reasons behind them are in docs/glossary.md and docs/glossary/<language>.md.
TERMS: dict[str, dict[str, str | tuple[str, ...]]] = {
    r"\breferrals?\b": {
        "nl": "verwijz",
        "ar": "إحال",
        "tr": "yönlendirme",
        "pl": "zgłosze",
        "uk": "направлен",
    },
    r"\bcare coordinators?\b": {
        "nl": "zorgcoördinator",
        "ar": "رعاية الطلاب",
        "tr": "destek koordinatör",
        "pl": "koordynator",
        "uk": "координатор",
    },
    r"\btime-outs?\b": {
        "nl": "time-out",
        "ar": "استراح",
        "tr": "mola",
        "pl": "wyciszeni",
        "uk": "тайм-аут",
    },
    r"\bmentors?\b": {
        "nl": "mentor",
        "ar": "مرشد",
        "tr": "mentor",
        "pl": "wychowaw",
        "uk": "керівни",
    },
    r"\bintake\b": {
        "nl": "intake",
        "ar": "تمهيدي",
        "tr": "ilk görüşme",
        "pl": "wstępn",
        "uk": "вступн",
    },
    r"\btrajector(y|ies)\b": {
        "nl": "traject",
        "ar": "مسار",
        "tr": "destek süre",
        "pl": "program",
        "uk": "програм",
    },
    r"\bappointments?\b": {
        "nl": "afspra",
        "ar": ("موعد", "مواعيد"),
        "tr": "randevu",
        "pl": "spotka",
        "uk": "зустріч",
    },
    r"\blogbook\b": {
        "nl": "logboek",
        "ar": "سجل",
        "tr": "kayıt defter",
        "pl": "dzienni",
        "uk": "журнал",
    },
    r"\bquestionnaires?\b": {
        "nl": "vragenlijst",
        "ar": "استبيان",
        "tr": "anket",
        "pl": "ankiet",
        "uk": "опитуван",
    },
    r"\bqueue\b": {
        "nl": "werkvoorraad",
        "ar": "مهام",
        "tr": "iş liste",
        "pl": "zadań",
        "uk": "завдань",
    },
}
LANGUAGES = ("nl", "ar", "tr", "pl", "uk")
_CODE = re.compile(r"`[^`]*`|\{\w*\}|%\(\w+\)[sd]|\b\w+_\w+\b|/\w+")


def _fold(text: str, language: str) -> str:
    # Turkish capital İ lower-cases to "i" + a combining dot in Python; fold it by hand.
    if language == "tr":
        text = text.replace("İ", "i").replace("I", "ı")
    return text.lower()


def _wording(msgid: str) -> str:
    return _CODE.sub(" ", msgid)


def inconsistencies(language: str) -> list[str]:
    """Every translated message that uses a glossary term without its fixed rendering."""
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    problems = []
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = (
            [message.string] if isinstance(message.string, str) else list(message.string or ())
        )
        if not all(strings):
            continue  # untranslated: tests/test_catalogs.py reports it
        for pattern, stems in TERMS.items():
            if not any(re.search(pattern, _wording(i), re.IGNORECASE) for i in ids):
                continue
            wanted = stems[language]
            options = [
                _fold(w, language) for w in ((wanted,) if isinstance(wanted, str) else wanted)
            ]
            if any(not any(o in _fold(s, language) for o in options) for s in strings):
                problems.append(f"{pattern} → {stems[language]!r} missing in {ids[0][:60]!r}")
    return problems


@pytest.mark.parametrize("language", LANGUAGES)
def test_domain_words_follow_the_glossary(language: str) -> None:
    assert inconsistencies(language) == []


def test_code_and_identifiers_are_not_wording() -> None:
    assert re.search(r"\bqueue\b", _wording("then `trajectbot queue --as zoco`")) is None
    assert re.search(r"\bmentor\b", _wording("mentor_of is filled in")) is None
    assert re.search(r"\bqueue\b", _wording("Open the queue")) is not None


def test_turkish_capitals_fold_like_lower_case() -> None:
    assert _fold("İlk görüşme", "tr") == "ilk görüşme"
    assert _fold("IŞIK", "tr") == "ışık"
