"""How values are written for a person to read, alike in the CLI, plots and reports."""

from __future__ import annotations

UNDEFINED = "n/a"
"""How a metric without a value (None: nothing to measure) is shown."""


def format_metric(value: float | None, spec: str = ".3f") -> str:
    """`value` formatted by `spec`, or `UNDEFINED` where it is None."""
    return UNDEFINED if value is None else format(value, spec)
