"""``python -m aiinventory``."""

from .entry import main

main()
