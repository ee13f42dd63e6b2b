"""The label store: SQLAlchemy models, Alembic migrations, the functions over them."""

from etholoop.store.engine import Store, sqlite_url
from etholoop.store.labels import (
    add_frame_instances,
    frame_versions,
    load_frame_instances,
    load_instances_by_frame,
    save_frame_instances,
)
from etholoop.store.models import (
    BehaviorLabel,
    Cycle,
    Frame,
    InstanceRow,
    ModelRun,
    SplitMember,
    TrackedVideo,
    Video,
)
from etholoop.store.splits import (
    get_or_add_cycle,
    latest_cycle,
    load_split_members,
    manually_labeled,
    replace_split_members,
)
from etholoop.store.videos import (
    add_video,
    find_normalized,
    find_video_by_hash,
    get_or_add_frame,
    list_videos,
)

__all__ = [
    "BehaviorLabel",
    "Cycle",
    "Frame",
    "InstanceRow",
    "ModelRun",
    "SplitMember",
    "Store",
    "TrackedVideo",
    "Video",
    "add_frame_instances",
    "add_video",
    "find_normalized",
    "find_video_by_hash",
    "frame_versions",
    "get_or_add_cycle",
    "get_or_add_frame",
    "latest_cycle",
    "list_videos",
    "load_frame_instances",
    "load_instances_by_frame",
    "load_split_members",
    "manually_labeled",
    "replace_split_members",
    "save_frame_instances",
    "sqlite_url",
]
