"""Pose models: dataset export, training, prediction, evaluation."""
