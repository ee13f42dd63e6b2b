"""The active-learning loop: cycles between trainings, and its simulation.

`cycle.advance_cycle` closes a round and opens the next (corrected frames to
train+val, a new prediction subset chosen by a strategy). `oracle.Oracle` and
`simulate` run the loop on a fully labeled project to measure how many labels
a strategy needs: select, reveal, merge, fine-tune.
"""

from etholoop.active.cycle import CycleReport, advance_cycle
from etholoop.active.oracle import Oracle
from etholoop.active.simulate import (
    FineTune,
    LabelRound,
    count_labeled_trainval,
    label_round,
    run_rounds,
    start_simulation,
)

__all__ = [
    "CycleReport",
    "FineTune",
    "LabelRound",
    "Oracle",
    "advance_cycle",
    "count_labeled_trainval",
    "label_round",
    "run_rounds",
    "start_simulation",
]
