"""Behavior classification from pose tracks: features, models, splits, bouts.

- `features`: cleaning and pose features of each animal (pure numpy).
- `model`: the `BehaviorModel` / `BehaviorPredictor` protocols, `LabeledVideo`,
  and `PoseFeatureModel` (LightGBM, thresholds and bouts tuned inside the
  training frames).
- `proximity`: the one-feature proximity rule baseline.
- `postprocess`: threshold, gap filling, minimum bout length, and their tuning.
- `splits`: contiguous time blocks and leave-one-video-out; random-frame splits
  are refused.
"""

from etholoop.behavior.features import CleanParams, FeatureParams, video_features
from etholoop.behavior.model import (
    BehaviorModel,
    BehaviorPredictor,
    BoostParams,
    LabeledVideo,
    PoseFeatureModel,
    PosePredictor,
)
from etholoop.behavior.postprocess import BoutParams, apply_bouts, tune_bouts
from etholoop.behavior.proximity import ProximityPredictor, ProximityRule
from etholoop.behavior.splits import Fold, block_folds, check_fold, video_folds

__all__ = [
    "BehaviorModel",
    "BehaviorPredictor",
    "BoostParams",
    "BoutParams",
    "CleanParams",
    "FeatureParams",
    "Fold",
    "LabeledVideo",
    "PoseFeatureModel",
    "PosePredictor",
    "ProximityPredictor",
    "ProximityRule",
    "apply_bouts",
    "block_folds",
    "check_fold",
    "tune_bouts",
    "video_features",
    "video_folds",
]
