"""Open the label store and bring its schema up to date with Alembic.

SQLite (the default, a file inside the project) runs in WAL mode with foreign keys
on, so a reader never blocks the annotator who saves and a killed writer leaves the
last committed state. A PostgreSQL URL works the same.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from etholoop.errors import StoreError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite file."""
    return f"sqlite:///{path.resolve()}"


def _set_sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def create_store_engine(url: str) -> Engine:
    """An engine for `url`; SQLite connections get WAL, foreign keys and a busy wait.

    Raises:
        StoreError: the URL cannot be parsed or names an unknown database driver.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _set_sqlite_pragmas)
        else:
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            engine = create_engine(parsed, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"{url}: not a usable database URL ({exc})") from None
    return engine


def migrate(engine: Engine) -> None:
    """Apply every Alembic migration the database does not have yet.

    Raises:
        StoreError: the database cannot be reached or is newer than this etholoop.
    """
    config = _alembic_config()
    head = ScriptDirectory.from_config(config).get_current_head()
    sqlite = engine.dialect.name == "sqlite"
    try:
        with engine.connect() as connection:
            if sqlite:  # a batch migration's table copy must not cascade deletes
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
            try:
                with connection.begin():
                    _upgrade(connection, config, head, engine)
            finally:
                if sqlite:
                    connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                    connection.commit()
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0]
        raise StoreError(
            f"{engine.url!r}: cannot open the label store ({reason})"
        ) from None


def _upgrade(
    connection: Connection, config: Config, head: str | None, engine: Engine
) -> None:
    current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return
    known = {r.revision for r in ScriptDirectory.from_config(config).walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"{engine.url!r}: store schema {current} is newer than this "
            "etholoop; upgrade etholoop"
        )
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Store:
    """The label store of one project: an engine plus a session factory."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_store_engine(url)
        migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose work commits as one transaction, or rolls back on error."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Release every pooled connection."""
        self.engine.dispose()
