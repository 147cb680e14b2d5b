"""kill -9 and injected faults against the outbox (issue 13): delivered once, twice, never.

A real worker process (`tests.support.outbox_runner`: the product's worker and Telegram
sender, Telegram's pacing) sends to a fake Bot API (aiohttp on 127.0.0.1) and is killed with
SIGKILL ``--kills`` times, restarted each time, until every row is settled. Two runs: kills
alone, then kills with ``--faults`` (default 20 %) of the requests answered 429, 500 or a
timeout *after the message was delivered*. The rows are of a kind resent after an uncertain
attempt (``timeout.requested``) or of a kind held (``survey.completed``) in the share of a
school's real traffic (`tests.support.outbox_proof.SCHOOL_MIX`; ``--resend-share`` overrides
it); the figures count both classes apart. See `tests.support.outbox_proof` and
docs/operations.md.

    .venv/bin/python bench/outbox_kill.py [--sends 2400] [--kills 20] [--faults 0.2]
                                         [--resend-share F] [--database-url URL]

Prints figures only (the bounded, asserted version is tests/bot/test_outbox_kill.py).
"""

# ruff: noqa: E402 - the repository root goes on sys.path first; a bench prints

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse
import asyncio
import tempfile

from storage.migrate import upgrade_database
from tests.support.outbox_proof import run_proof, school_resend_share


async def _one(title: str, url: str | None, workdir: Path, **options: float) -> None:
    if url is None:
        url = f"sqlite+aiosqlite:///{workdir / (title.replace(' ', '-') + '.db')}"
    await upgrade_database(url)
    figures = await run_proof(
        url,
        sends=int(options["sends"]),
        kills=int(options["kills"]),
        fault_rate=options["faults"],
        workdir=workdir,
        deadline=3600.0,
        resend_share=options["resend_share"],
    )
    print(f"== {title}")
    for line in figures.lines():
        print(f"   {line}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=2400)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--faults", type=float, default=0.2)
    parser.add_argument(
        "--resend-share",
        type=float,
        default=school_resend_share(),
        help="share of rows of a kind resent when uncertain (default: a school's traffic)",
    )
    parser.add_argument(
        "--database-url", default=None, help="an empty database per run (default: SQLite files)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        print(f"rows of a kind resent when uncertain: {args.resend_share:.1%}")
        await _one(
            "kills only",
            args.database_url,
            workdir,
            sends=args.sends,
            kills=args.kills,
            faults=0.0,
            resend_share=args.resend_share,
        )
        if args.database_url is None:
            await _one(
                f"kills and {args.faults:.0%} faults",
                None,
                workdir,
                sends=args.sends,
                kills=args.kills,
                faults=args.faults,
                resend_share=args.resend_share,
            )


if __name__ == "__main__":
    asyncio.run(main())
