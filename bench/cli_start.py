"""How long `trajectbot --help` takes to start (issue 10): process wall time, median of N runs.

Each run is a new process (`.venv/bin/trajectbot --help`, else `python -m bot --help`), timed
from start to exit, so it includes the interpreter's own start. Also prints the slowest
imports of one run (`python -X importtime`).

    .venv/bin/python bench/cli_start.py [--runs 5] [--args "init --help"]

Prints figures only; no test asserts a speed (`tests/bot/test_cli_imports.py` checks instead
that no heavy module is imported).
"""

from __future__ import annotations

import argparse
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _command(args: list[str]) -> list[str]:
    script = Path(sys.executable).parent / "trajectbot"
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-m", "bot", *args]


def _one_run(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, capture_output=True, check=True)  # noqa: S603
    return time.perf_counter() - started


def _slowest_imports(args: list[str], count: int) -> list[tuple[int, str]]:
    probe = f"import bot.cli; bot.cli.main({args!r}, standalone_mode=False)"
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-X", "importtime", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[tuple[int, str]] = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--args", default="--help", help="the command line's arguments")
    options = parser.parse_args()
    args = shlex.split(options.args)
    command = _command(args)
    _one_run(command)  # warm the file cache; not counted
    runs = [_one_run(command) for _ in range(options.runs)]
    shown = " ".join(f"{run:.3f}" for run in sorted(runs))
    print(f"{shlex.join(command)}: median {statistics.median(runs):.3f} s of {options.runs}")
    print(f"runs (s): {shown}")
    print("slowest imports (cumulative µs, one run):")
    for micros, name in _slowest_imports(args, 8):
        print(f"  {micros:>8} {name}")


if __name__ == "__main__":
    main()
