"""The dependency rule of docs/architecture.md ("Layers"), checked on every import statement.

Every Python file under `dialogs/`, `storage/`, `services/`, `bot/` and `web/` is parsed (never
imported) and every `import` / `from … import` in it is checked: at module level, inside
functions (a lazy import is still a dependency) and inside `if TYPE_CHECKING:` blocks (a type
is a dependency too: the layer that names another layer's types depends on it). Relative
imports are resolved first. `from a import b` counts as importing `a.b`, so importing a
submodule by name (`from storage import db`) is caught as well.

A failure names the file and line, the module imported and the rule it breaks. The checker
checks itself on small invented sources (`test_the_checker_*`), so the rules cannot pass
because nothing was read.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("dialogs", "storage", "services", "bot", "web")

#: The domain packages of `services/`, lowest first. A package imports only packages that come
#: before it, so the domains cannot import each other in a circle, and `kernel` imports none.
#: The queue is the inbox other domains put items in (a referral, an exit questionnaire's
#: answers, a time-out request), so it comes before them; closing a trajectory invites to the
#: exit questionnaire (surveys before trajectories); a referral, once accepted, starts a
#: trajectory; conversations bind the chat flows to all of them; demo fills everything.
#: A new package has to be placed here.
SERVICE_ORDER = (
    "kernel",
    "accounts",
    "outbox",
    "consent",
    "queue",
    "surveys",
    "trajectories",
    "referrals",
    "appointments",
    "bulk",
    "settings",
    "indicators",
    "exports",
    "privacy",
    "conversations",
    "demo",
)

#: Known breaks of SERVICE_ORDER, each reported to be moved: (file, imported package) → why.
#: `test_every_known_exception_is_still_needed` fails once one is gone, so the list shrinks.
KNOWN_EXCEPTIONS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Rule:
    """Files matching ``files`` (globs, relative to the root) import none of ``forbidden``.

    A module matches a forbidden name when it is that module or inside it; ``allowed`` lists
    modules inside a forbidden one that may still be imported, and ``except_files`` files the
    rule does not apply to (each with its reason in ``why``).
    """

    files: tuple[str, ...]
    forbidden: tuple[str, ...]
    why: str
    allowed: tuple[str, ...] = ()
    except_files: tuple[str, ...] = ()


_WEB_STACK = ("aiogram", "fastapi", "starlette")

RULES: tuple[Rule, ...] = (
    Rule(
        files=("dialogs/*",),
        forbidden=("sqlalchemy", *_WEB_STACK, "storage", "services", "bot", "web"),
        why="dialogs/ is the pure conversation engine: no database, no channel, no other layer",
    ),
    Rule(
        files=("storage/*",),
        forbidden=(*_WEB_STACK, "dialogs", "services", "bot", "web"),
        why="storage/ is persistence only (db, models, migrations, migrate)",
    ),
    Rule(
        files=("services/*",),
        forbidden=(*_WEB_STACK, "jinja2", "bot", "web"),
        why="services/ are the rules and writes: no channel, no web framework, no entry point",
    ),
    Rule(
        files=("services/*/rules.py",),
        forbidden=("sqlalchemy", "storage.db", "storage.migrate", "aiogram", "fastapi"),
        why="a rules module is pure (no I/O); it may use storage.models for its enums",
    ),
    Rule(
        files=("web/*",),
        forbidden=("aiogram", "bot"),
        allowed=("bot.app", "bot.config"),
        why="web/ is built from the composition root's App and Settings, never from Telegram",
    ),
    Rule(
        files=("bot/*",),
        forbidden=("web",),
        except_files=("bot/runner.py",),
        why=(
            "only the runner serves the web app (`trajectbot run` / `web`); the CLI imports "
            "the runner inside the command, so the other commands never load FastAPI"
        ),
    ),
    Rule(
        files=("bot/*",),
        forbidden=("bot.runner",),
        except_files=("bot/cli.py",),
        why="the runner (and with it the web app) is started by the CLI's run / web commands only",
    ),
)


@dataclass(frozen=True)
class Import:
    """One imported module, where it is imported."""

    path: str
    line: int
    module: str


def module_name(path: PurePosixPath) -> tuple[str, bool]:
    """The dotted name of a source file and whether it is a package's `__init__`."""
    parts = path.with_suffix("").parts
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


def imports_in(source: str, path: str) -> Iterator[Import]:
    """Every module ``source`` imports, wherever the statement is (functions, TYPE_CHECKING)."""
    name, is_package = module_name(PurePosixPath(path))
    package = name.split(".") if is_package else name.split(".")[:-1]
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(path, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            for alias in node.names:
                yield Import(
                    path, node.lineno, module if alias.name == "*" else f"{module}.{alias.name}"
                )


def _within(module: str, name: str) -> bool:
    return module == name or module.startswith(name + ".")


def rule_breaks(found: Import) -> Iterator[str]:
    """The rules ``found`` breaks, each as a message naming the file, the line and the module."""
    where = f"{found.path}:{found.line}: imports {found.module}"
    for rule in RULES:
        if not any(fnmatch(found.path, pattern) for pattern in rule.files):
            continue
        if found.path in rule.except_files:
            continue
        for name in rule.forbidden:
            if _within(found.module, name) and not any(
                _within(found.module, allowed) for allowed in rule.allowed
            ):
                yield f"{where} — {' '.join(rule.files)} must not import {name}: {rule.why}"
                break
    yield from _service_order_breaks(found, where)


def _service_order_breaks(found: Import, where: str) -> Iterator[str]:
    parts = PurePosixPath(found.path).parts
    if parts[0] != "services" or len(parts) < 3 or not _within(found.module, "services"):
        return
    importer = parts[1]
    imported = found.module.split(".")[1] if found.module.count(".") else None
    if imported is None or imported == importer:
        return
    for domain in (importer, imported):
        if domain not in SERVICE_ORDER:
            yield f"{where} — services/{domain}/ is not in SERVICE_ORDER (tests/test_layers.py)"
            return
    if (found.path, imported) in KNOWN_EXCEPTIONS:
        return
    if SERVICE_ORDER.index(imported) > SERVICE_ORDER.index(importer):
        yield (
            f"{where} — services/{importer}/ must not import services/{imported}/: a service "
            f"package imports only those before it in SERVICE_ORDER ({' < '.join(SERVICE_ORDER)})"
        )


def rules_module_breaks(source: str, path: str) -> Iterator[str]:
    """A `services/*/rules.py` holds no coroutine: pure rules do no I/O."""
    if not fnmatch(path, "services/*/rules.py"):
        return
    for node in ast.walk(ast.parse(source, filename=path)):
        if isinstance(node, ast.AsyncFunctionDef):
            yield f"{path}:{node.lineno}: async def {node.name} — a rules module is pure (no I/O)"


def sources() -> Iterator[tuple[str, str]]:
    """(relative path, source) of every Python file of the layers."""
    for layer in LAYERS:
        for file in sorted((ROOT / layer).rglob("*.py")):
            yield file.relative_to(ROOT).as_posix(), file.read_text(encoding="utf-8")


def breaks_in(source: str, path: str) -> list[str]:
    found = [problem for item in imports_in(source, path) for problem in rule_breaks(item)]
    return found + list(rules_module_breaks(source, path))


def test_every_import_keeps_the_dependency_rule() -> None:
    problems: list[str] = []
    files = 0
    for path, source in sources():
        files += 1
        problems.extend(breaks_in(source, path))
    assert files > 100, f"only {files} files found under {LAYERS}"
    assert not problems, "the dependency rule is broken:\n" + "\n".join(problems)


def test_every_service_package_is_placed_in_the_order() -> None:
    packages = {path.parent.name for path in (ROOT / "services").glob("*/__init__.py")}
    assert packages == set(SERVICE_ORDER), (
        f"services/ packages {sorted(packages)} differ from SERVICE_ORDER {SERVICE_ORDER}"
    )


def test_every_known_exception_is_still_needed() -> None:
    for (path, package), why in KNOWN_EXCEPTIONS.items():
        file = ROOT / path
        used = file.exists() and any(
            _within(item.module, f"services.{package}")
            for item in imports_in(file.read_text(encoding="utf-8"), path)
        )
        assert used, f"{path} no longer imports services.{package} ({why}): remove the exception"


def test_rules_modules_load_no_io_machinery() -> None:
    """Importing every `services/*/rules.py` (and what they import) loads no I/O machinery."""
    modules = [
        f"services.{path.parent.name}.rules" for path in sorted(ROOT.glob("services/*/rules.py"))
    ]
    assert modules, "no services/*/rules.py found"
    heavy = ("sqlalchemy.ext.asyncio", "storage.db", "storage.migrate", "aiogram", "fastapi")
    probe = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"importing {modules} loaded {done.stdout.strip()}"


# --- the checker checks itself ------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "source", "expected"),
    [
        ("dialogs/engine.py", "import sqlalchemy\n", "dialogs/engine.py:1: imports sqlalchemy"),
        (
            "dialogs/flows/x.py",
            "def f():\n    from ...storage.models import Person\n",
            "dialogs/flows/x.py:2: imports storage.models.Person",
        ),
        (
            "dialogs/render.py",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from services import queue\n",
            "must not import services",
        ),
        ("storage/models.py", "from dialogs.text import Text\n", "must not import dialogs"),
        ("storage/db.py", "from bot.config import Settings\n", "must not import bot"),
        ("services/queue/actions.py", "from aiogram import Bot\n", "must not import aiogram"),
        ("services/queue/actions.py", "import jinja2\n", "must not import jinja2"),
        ("services/queue/actions.py", "from web.deps import x\n", "must not import web"),
        (
            "services/kernel/audit.py",
            "from services.accounts.people import p\n",
            "services/kernel/ must not import services/accounts/",
        ),
        (
            "services/outbox/store.py",
            "from ..queue import items\n",
            "services/outbox/ must not import services/queue/",
        ),
        (
            "services/queue/items.py",
            "from services.surveys.results import x\n",
            "services/queue/ must not import services/surveys/",
        ),
        (
            "services/queue/listing.py",
            "from services.trajectories import lifecycle\n",
            "services/queue/ must not import services/trajectories/",
        ),
        (
            "services/queue/rules.py",
            "from storage import db\n",
            "services/*/rules.py must not import storage.db",
        ),
        ("services/queue/rules.py", "import sqlalchemy as sa\n", "must not import sqlalchemy"),
        (
            "services/queue/rules.py",
            "async def allowed():\n    pass\n",
            "services/queue/rules.py:1: async def allowed",
        ),
        ("services/newthing/x.py", "from services.kernel import errors\n", "not in SERVICE_ORDER"),
        ("web/routes/queue.py", "from aiogram.types import Message\n", "must not import aiogram"),
        ("web/routes/queue.py", "from bot.telegram import render\n", "must not import bot"),
        ("bot/telegram/handlers/care.py", "from web.labels import x\n", "must not import web"),
        ("bot/cli.py", "def serve():\n    import web.app\n", "bot/cli.py:2: imports web.app"),
        ("bot/telegram/polling.py", "from bot.runner import serve\n", "must not import bot.runner"),
    ],
)
def test_the_checker_reports_a_broken_rule(path: str, source: str, expected: str) -> None:
    problems = breaks_in(source, path)
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize(
    ("path", "source"),
    [
        ("dialogs/engine.py", "from dialogs.text import Text\nimport babel\n"),
        ("storage/models.py", "from sqlalchemy.orm import Mapped\n"),
        ("services/queue/actions.py", "from services.kernel.errors import NotFound\n"),
        ("services/queue/actions.py", "from .rules import allowed_actions\n"),
        ("services/demo/school.py", "from services.appointments.booking import book\n"),
        ("services/surveys/completion.py", "from services.queue.items import open_item\n"),
        ("services/referrals/decisions.py", "from services.trajectories import lifecycle\n"),
        ("services/queue/rules.py", "from storage.models import QueueStatus\n"),
        ("services/queue/actions.py", "async def take():\n    pass\n"),
        ("web/app.py", "from bot.app import App\nfrom bot.config import Settings\n"),
        ("bot/runner.py", "from web.app import create_web_app\n"),
        ("bot/telegram/webhook.py", "from aiohttp import web\n"),
    ],
)
def test_the_checker_lets_an_allowed_import_pass(path: str, source: str) -> None:
    assert breaks_in(source, path) == []


def test_the_checker_reads_the_real_tree() -> None:
    """Not vacuous: the known lazy import of the runner in the CLI is found with its line."""
    source = (ROOT / "bot" / "cli.py").read_text(encoding="utf-8")
    found = [
        item for item in imports_in(source, "bot/cli.py") if _within(item.module, "bot.runner")
    ]
    assert found, "the CLI's lazy `from bot.runner import …` was not found"
