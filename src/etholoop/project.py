"""A project folder: its config, its label store and where each stage writes.

```
PROJECT/
  etholoop.yaml      the config (animals, skeleton, behaviors, store, video defaults)
  etholoop.db        the SQLite label store (unless the config names another URL)
  videos/            normalized videos written by `etholoop preprocess`
  frames/<hash>/     frame images cached for labeling and export, per video
  runs/<stage>/<id>/ model runs
  exports/           label exports
```
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from etholoop.config import CONFIG_NAME, ProjectConfig, load_config, save_config
from etholoop.errors import ProjectError
from etholoop.runs import interrupt_ended_runs
from etholoop.store import Store, sqlite_url
from etholoop.types import Skeleton

DB_NAME = "etholoop.db"


class Project:
    """An open project folder: `Project.open(path)` is the Python entry point."""

    def __init__(self, root: Path, config: ProjectConfig) -> None:
        self.root = root
        self.config = config
        self.store = Store(self.store_url)

    @property
    def store_url(self) -> str:
        """The database URL: the config's, else the SQLite file in the folder."""
        return self.config.store.url or sqlite_url(self.root / DB_NAME)

    @property
    def skeleton(self) -> Skeleton:
        """The project's skeleton."""
        return self.config.skeleton.to_skeleton()

    @property
    def config_path(self) -> Path:
        """Path of `etholoop.yaml`."""
        return self.root / CONFIG_NAME

    @property
    def videos_dir(self) -> Path:
        """Where normalized videos go."""
        return self.root / "videos"

    @property
    def frames_dir(self) -> Path:
        """Where frame images are cached, one folder per video."""
        return self.root / "frames"

    @property
    def runs_dir(self) -> Path:
        """Where model runs keep their files."""
        return self.root / "runs"

    @property
    def exports_dir(self) -> Path:
        """Default folder for label exports."""
        return self.root / "exports"

    def frame_dir(self, sha256: str) -> Path:
        """The cache folder of one video's frame images, named by its content hash.

        Named by content, not row id, so that files left by a rolled-back import
        can never be taken for another video's frames.
        """
        return self.frames_dir / sha256[:16]

    def relative(self, path: Path) -> str:
        """`path` relative to the project root when inside it, else absolute."""
        resolved = path.resolve()
        try:
            return resolved.relative_to(self.root).as_posix()
        except ValueError:
            return str(resolved)

    def resolve(self, stored: str) -> Path:
        """The absolute path of a path stored relative to the project root."""
        path = Path(stored)
        return path if path.is_absolute() else self.root / path

    @classmethod
    def create(cls, root: str | os.PathLike[str], config: ProjectConfig) -> Project:
        """Make a new project folder with its config and an empty store.

        Raises:
            ProjectError: the folder already holds a project, or is a file.
        """
        root = Path(root).resolve()
        if (root / CONFIG_NAME).exists():
            raise ProjectError(f"{root}: already an etholoop project")
        if root.exists() and not root.is_dir():
            raise ProjectError(f"{root}: exists and is not a folder")
        root.mkdir(parents=True, exist_ok=True)
        save_config(config, root / CONFIG_NAME)
        try:
            return cls(root, config)
        except Exception:
            (root / CONFIG_NAME).unlink()
            raise

    @classmethod
    def open(cls, root: str | os.PathLike[str]) -> Project:
        """Open an existing project folder, migrating its store if needed.

        Runs left `running` by a process of this host that has ended (killed
        without a chance to record it) are marked `interrupted`.

        Raises:
            ProjectError: the folder is missing or holds no `etholoop.yaml`.
            ConfigError: the config is invalid.
        """
        root = Path(root).resolve()
        if not root.is_dir():
            raise ProjectError(f"{root}: no such project folder")
        if not (root / CONFIG_NAME).is_file():
            raise ProjectError(
                f"{root}: not an etholoop project (no {CONFIG_NAME}); "
                "create one with `etholoop init`"
            )
        project = cls(root, load_config(root / CONFIG_NAME))
        with project.store.session() as session:
            interrupt_ended_runs(session)
        return project

    def close(self) -> None:
        """Release the store's connections."""
        self.store.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
