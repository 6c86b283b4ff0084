"""aiinventory: migrate scattered AI use-case tracking into one standardised inventory.

The library surface is :mod:`aiinventory.api`; the command line is a thin layer over it.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
