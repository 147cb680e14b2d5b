"""Languages the product speaks (BCP 47 primary tags). Dutch is the default."""

from __future__ import annotations

DEFAULT_LANGUAGE = "nl"
SUPPORTED_LANGUAGES: tuple[str, ...] = ("nl", "en", "ar", "tr", "pl", "uk")
