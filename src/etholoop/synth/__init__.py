"""Synthetic multi-mouse arena videos with exact ground truth.

`make_arena` simulates look-alike mice (behavior state machine, chases, contacts,
occlusions) and computes keypoints, boxes, visibility, identities and a per-frame
ethogram (with `behaviors=(..., "flinch")` also a rare, short flinch drawn in
the pixels only); `Arena.frames()` renders the video lazily and `write_arena` streams it
to disk beside the ground truth files. `make_composed_arena` pastes mice cut from
real single-mouse labeled frames (`load_source_mice`) instead of drawing them.
"""

from etholoop.synth.arena import Arena, make_arena
from etholoop.synth.compose import (
    COMPOSABLE_BEHAVIORS,
    SourceMice,
    load_source_mice,
    make_composed_arena,
)
from etholoop.synth.config import ArenaSpec
from etholoop.synth.motion import Contact
from etholoop.synth.write import write_arena

__all__ = [
    "COMPOSABLE_BEHAVIORS",
    "Arena",
    "ArenaSpec",
    "Contact",
    "SourceMice",
    "load_source_mice",
    "make_arena",
    "make_composed_arena",
    "write_arena",
]
