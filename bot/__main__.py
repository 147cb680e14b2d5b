"""`python -m bot` runs the same command line as the `trajectbot` console script."""

from bot.cli import main

main()
