"""Exceptions the library raises; the CLI maps each to an exit code (DESIGN.md §4)."""

from __future__ import annotations


class AIInventoryError(Exception):
    """Base class: a failure with a message fit to show a user as it is."""

    exit_code = 1


class ConfigError(AIInventoryError):
    """A usage, configuration or mapping error, found before any work is done (exit 2)."""

    exit_code = 2


class LockHeldError(AIInventoryError):
    """Another run holds the lock on the output folder or state file (exit 4)."""

    exit_code = 4
