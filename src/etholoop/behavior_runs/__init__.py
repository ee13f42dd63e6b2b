"""The behavior stage over a project: train, predict, evaluate, propose what to label.

- `data`: sessions with tracks and the labels to learn from.
- `train`: `train_behavior` (`etholoop behavior train`), a run folder with the model.
- `predict`: `predict_behavior` (`etholoop behavior predict`), ethogram files and
  predicted ranges in the store.
- `evaluate`: `evaluate_behavior` (`etholoop behavior evaluate`), cross-validation
  by time blocks or whole sessions.
- `propose`: `propose_segments` (`etholoop behavior next`).

The models themselves are `etholoop.behavior`, pure arrays.
"""
