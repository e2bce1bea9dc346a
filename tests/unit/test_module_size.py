"""Modules are named for one concept and stay readable: no module of the application is over
:data:`MAX_LINES` lines. A module that grows past it is split by concept (a package with a
module per concept), not trimmed by squeezing lines."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("config", "diary_core", "gosuslugi_adapter", "gateway")
MAX_LINES = 400

#: Generated data rather than code, exempt: keep this list short and say why for each.
GENERATED = {
    # The demo's name, subject and message lists: data tables read by the generator.
    "diary_core/demo/names.py",
}


def _exempt(relative: str) -> bool:
    """Alembic migrations (each a frozen record of one schema change) and generated data."""
    return "/migrations/" in f"/{relative}" or relative in GENERATED


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_no_module_is_over_the_limit() -> None:
    too_long = {
        relative: count
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if not _exempt(relative := path.relative_to(ROOT).as_posix())
        and (count := _lines(path)) > MAX_LINES
    }
    listed = ", ".join(f"{name} ({count})" for name, count in sorted(too_long.items()))
    assert not too_long, f"modules over {MAX_LINES} lines, to split by concept: {listed}"


def test_the_exempt_modules_exist() -> None:
    """An exemption outliving its module would hide the next one of that name."""
    assert all((ROOT / name).is_file() for name in GENERATED)
