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


class ConnectorError(AIInventoryError):
    """A mailbox could not be synced: unreachable, login refused, a protocol error (exit 1).

    The message names the source by its URL without secrets. In a run with other sources that
    worked, the run carries on: the mailbox is reported as a failed source (exit 3) and its
    messages from the last successful sync stay in the inventory.
    """

    exit_code = 1
