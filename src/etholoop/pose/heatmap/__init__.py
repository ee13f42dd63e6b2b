"""Top-down heatmap pose backend: crops around each animal, keypoint heatmaps.

A pure numpy/OpenCV core (`geometry`, `targets`, `samples`) and the torch side
(network, training, detection, the backend).
"""
