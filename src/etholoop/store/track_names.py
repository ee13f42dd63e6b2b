"""Store functions for the names of animal identities (`instances.track_id`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from etholoop.store.models import InstanceRow, TrackName


def stored_track_names(session: Session) -> dict[int, str]:
    """Every named identity: track id -> name."""
    return {row.track_id: row.name for row in session.scalars(select(TrackName))}


def track_ids_for(session: Session, names: Sequence[str]) -> list[int]:
    """The track id of each name, a new id for a name the store does not know.

    New ids come after every id in use, named or not, so that instances stored
    with an unnamed id keep their own animal.
    """
    known = {name: track_id for track_id, name in stored_track_names(session).items()}
    used = [
        *known.values(),
        session.scalar(select(func.max(InstanceRow.track_id))),
    ]
    next_id = max([-1, *(u for u in used if u is not None)]) + 1
    ids = []
    for name in names:
        if name not in known:
            session.add(TrackName(track_id=next_id, name=name))
            known[name] = next_id
            next_id += 1
        ids.append(known[name])
    session.flush()
    return ids
