"""Store functions the annotation app asks: one cycle or frame by id.

The app reads rows in one session and uses them after it has ended (the store's
sessions keep loaded attributes on commit), so what a route needs later is loaded
here.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, joinedload

from etholoop.store.models import Cycle, Frame


def get_cycle(session: Session, cycle_id: int) -> Cycle | None:
    """The cycle with this id, if there is one."""
    return session.get(Cycle, cycle_id)


def get_frame_with_video(session: Session, frame_id: int) -> Frame | None:
    """The frame with this id, its video loaded with it, if there is one."""
    return session.get(Frame, frame_id, options=[joinedload(Frame.video)])
