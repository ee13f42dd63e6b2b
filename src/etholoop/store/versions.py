"""Optimistic concurrency: a save names the row versions it was based on."""

from __future__ import annotations

from collections.abc import Mapping

from etholoop.errors import ConflictError


def check_base_versions(
    subject: str, current: Mapping[int, int], base: Mapping[int, int]
) -> None:
    """Refuse a save whose base versions differ from the stored ones.

    Args:
        subject: What is saved, for the message, e.g. "frame 12".
        current: {row id: version} stored now.
        base: {row id: version} the caller loaded.

    Raises:
        ConflictError: somebody changed, added or deleted rows meanwhile.
    """
    if dict(current) != dict(base):
        raise ConflictError(
            f"{subject}: changed by someone else since it was loaded; "
            "reload it before saving"
        )
