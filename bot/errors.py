"""Errors an operator can fix from the command line."""

from __future__ import annotations


class CliError(Exception):
    """A problem the operator can fix; printed on one line, without a traceback."""
