"""``python -m segmint``."""

from segmint.cli import main

main()
