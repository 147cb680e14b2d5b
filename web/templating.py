"""Jinja2 for the web app: the project's gettext catalogs, `Text` values and dates in templates.

Templates translate with ``{% trans %}…{% endtrans %}`` and ``_("…")`` (the `jinja2.ext.i18n`
extension, new-style gettext: autoescaped, ``%(name)s`` placeholders), looked up in the
catalog of the page's language (``catalog`` in the template context, a `dialogs.i18n.Catalog`).
What services return as `Text` is rendered with the ``t`` filter (``{{ problem | t }}``), dates
and times with ``date``/``datetime`` (Babel, Europe/Amsterdam, the reader's locale).

`tools/i18n.py` extracts template strings from ``web/templates/**.html`` with the same
extension options, so ``make update-catalogs`` puts them in every catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from dialogs.i18n import Catalog
from dialogs.text import Text

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Options of the i18n extension, shared with the message extraction (tools/i18n.py).
I18N_EXTENSIONS = "jinja2.ext.i18n"
I18N_TRIMMED = True


def _catalog(context: Context) -> Catalog:
    catalog = context.get("catalog")
    if not isinstance(catalog, Catalog):
        raise TypeError("templates need a `catalog` in their context")
    return catalog


@pass_context
def _gettext(context: Context, message: str) -> str:
    return _catalog(context).gettext(message)


@pass_context
def _ngettext(context: Context, singular: str, plural: str, count: int) -> str:
    return _catalog(context).ngettext(singular, plural, count)


@pass_context
def render_text(context: Context, text: Text | None) -> str:
    """A service's `Text` in the page's language (``{{ value | t }}``); ``None`` is empty."""
    if text is None:
        return ""
    return _catalog(context).render(text)


@pass_context
def render_date(context: Context, value: date | datetime | None) -> str:
    """A date ("dinsdag 1 december") or date and time in the page's language."""
    if value is None:
        return ""
    return _catalog(context).render(Text.raw(value))


@pass_context
def render_duration(context: Context, value: timedelta) -> str:
    """An age as people say it: "3 days", "5 hours", "12 minutes" (whole units, rounded down)."""
    return _catalog(context).render(duration_text(value))


def duration_text(value: timedelta) -> Text:
    """`render_duration` as a `Text`."""
    seconds = max(int(value.total_seconds()), 0)
    days, hours, minutes = seconds // 86_400, seconds // 3_600, seconds // 60
    if days >= 1:
        return Text.plural_of("{count} day", "{count} days", days)
    if hours >= 1:
        return Text.plural_of("{count} hour", "{count} hours", hours)
    return Text.plural_of("{count} minute", "{count} minutes", minutes)


def create_environment(*, templates_dir: Path = TEMPLATES_DIR) -> Environment:
    """The templates' environment (one per web app; catalogs arrive per render)."""
    environment = Environment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(("html", "svg", "xml")),
        undefined=StrictUndefined,
        extensions=[I18N_EXTENSIONS],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.policies["ext.i18n.trimmed"] = I18N_TRIMMED
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, newstyle=True
    )
    environment.filters["t"] = render_text
    environment.filters["date"] = render_date
    environment.filters["datetime"] = render_date
    environment.filters["duration"] = render_duration
    return environment


def render_template(environment: Environment, name: str, context: Mapping[str, Any]) -> str:
    """Render one template with ``context`` (which must hold ``catalog``)."""
    return environment.get_template(name).render(dict(context))
