"""The store owns every query: no module outside ``etholoop/store/`` builds one.

Walks every module's syntax tree. Outside the store a module may hold a session (and
commit or flush it) and name the store's row classes in annotations, but it may not
import SQLAlchemy's query builders or ``etholoop.store.models``, create rows, or run
statements through a session.
"""

import ast
from pathlib import Path

import etholoop

PACKAGE = Path(etholoop.__file__).parent
STORE = PACKAGE / "store"
ALLOWED_SQLALCHEMY = {("sqlalchemy.orm", "Session")}
ROW_CLASSES = {
    "BehaviorLabel",
    "Cycle",
    "Frame",
    "InstanceRow",
    "ModelRun",
    "SplitMember",
    "TrackName",
    "TrackedVideo",
    "Video",
}
RESULT_METHODS = {"execute", "scalar", "scalars"}
"""Methods that run a statement, whatever holds them (a session, a connection)."""
SESSION_METHODS = {"add", "add_all", "delete", "get", "merge", "query"}
"""Methods that are statements on a session (and mean other things on a dict)."""


def _module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _absolute(module: str | None, level: int, here: str, is_package: bool) -> str:
    if level == 0:
        return module or ""
    base = here.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, module] if module else base)


def _type_checking_nodes(tree: ast.Module) -> set[int]:
    """Ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith(
            "TYPE_CHECKING"
        ):
            for child in node.body:
                inside.update(id(n) for n in ast.walk(child))
    return inside


def layering_violations(path: Path, root: Path = PACKAGE.parent) -> list[str]:
    """Where the module at ``path`` (a package under ``root``) passes the store by."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = _module_name(path, root)
    typing_only = _type_checking_nodes(tree)
    found: list[str] = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            for alias in node.names:
                if (
                    alias.name.startswith("sqlalchemy")
                    or alias.name == "etholoop.store.models"
                ):
                    found.append(f"{where} imports {alias.name}")
        elif isinstance(node, ast.ImportFrom):
            module = _absolute(
                node.module, node.level, here, path.name == "__init__.py"
            )
            for alias in node.names:
                if module.startswith("sqlalchemy"):
                    if (module, alias.name) not in ALLOWED_SQLALCHEMY:
                        found.append(f"{where} imports {module}.{alias.name}")
                elif module == "etholoop.store.models" or (
                    module == "etholoop.store" and alias.name == "models"
                ):
                    found.append(f"{where} imports etholoop.store.models")
                elif (
                    module == "etholoop.store"
                    and alias.name in ROW_CLASSES
                    and id(node) not in typing_only
                ):
                    found.append(
                        f"{where} imports the row class {alias.name} at run time"
                    )
        elif isinstance(node, ast.Attribute) and node.attr == "models":
            if ast.unparse(node.value).endswith("store"):
                found.append(f"{where} reaches {ast.unparse(node)}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = node.func.attr
            receiver = ast.unparse(node.func.value).lower()
            if method in RESULT_METHODS or (
                method in SESSION_METHODS and "session" in receiver
            ):
                found.append(f"{where} runs {ast.unparse(node.func)}()")
    return found


def test_the_walk_finds_a_query_built_outside_the_store(tmp_path: Path) -> None:
    module = tmp_path / "etholoop" / "sampling" / "probe.py"
    module.parent.mkdir(parents=True)
    module.write_text(
        "from sqlalchemy import select\n"
        "from ..store.models import Frame\n"
        "from etholoop.store import Video\n"
        "from etholoop import store\n"
        "def frames(s, session, rows):\n"
        "    rows.get(1)\n"
        "    session.add(store.models.Video())\n"
        "    return s.scalars(select(Frame)).all()\n"
    )
    found = layering_violations(module, tmp_path)
    assert sorted(v.split(" ", 1)[1] for v in found) == sorted(
        [
            "imports sqlalchemy.select",
            "imports etholoop.store.models",
            "imports the row class Video at run time",
            "runs session.add()",
            "reaches store.models",
            "runs s.scalars()",
        ]
    ), found


def test_no_module_outside_the_store_builds_a_query() -> None:
    modules = [p for p in sorted(PACKAGE.rglob("*.py")) if STORE not in p.parents]
    assert modules
    found = [v for path in modules for v in layering_violations(path)]
    assert not found, "\n".join(found)
