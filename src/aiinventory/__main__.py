"""``python -m aiinventory``."""

from .cli import main

main()
