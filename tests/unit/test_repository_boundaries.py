"""The repository carries itself: its import arrows, its references and its docs.

Three guards, no database:

1. **Arrows.** ``diary_core`` never imports ``gateway`` or ``gosuslugi_adapter``;
   ``gosuslugi_adapter`` never imports ``diary_core`` or ``gateway``; ``config`` imports none of
   the three (docs/architecture.md, "The arrows"). Every import counts: ``import x``,
   ``from x import y``, relative imports (resolved), imports inside functions and under
   ``TYPE_CHECKING``, and ``importlib.import_module("x")`` with a literal name.
2. **Nothing outside.** No file of the repository refers to material that is not in it: a
   path into a sibling ``shared`` folder, the design notes the project started from, or a
   regulation clause cited by number without pointing at docs/regulation.md (write
   "docs/regulation.md, clause 3.2").
3. **Docs that cannot go stale silently.** Every relative Markdown link in README.md and
   docs/**/*.md resolves to a file of the repository (and its ``#anchor`` to a heading of
   it); every backticked repository path (``gateway/portal/smev.py``) exists; every backticked
   dotted name of our packages (``diary_core.marks.record_mark``) names a module and, when it
   goes further, a name defined in it.
"""

from __future__ import annotations

import ast
import functools
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

#: Our top-level packages, and what each may never import.
PACKAGES = ("config", "diary_core", "gosuslugi_adapter", "gateway")
FORBIDDEN: dict[str, frozenset[str]] = {
    "diary_core": frozenset({"gateway", "gosuslugi_adapter"}),
    "gosuslugi_adapter": frozenset({"diary_core", "gateway"}),
    "config": frozenset({"diary_core", "gosuslugi_adapter", "gateway"}),
}

#: Never part of the repository, whatever is lying around in a working tree: folders (or a
#: worktree's ``.git`` file) of these names anywhere, and these paths from the root.
SKIPPED_NAMES = frozenset(
    {".git", ".venv", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
)
SKIPPED_PATHS = frozenset({"var", "test-artifacts", "bench/out"})


# --- 1. the arrows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Arrow:
    """One import found in a source file: the module it names, where."""

    source: str  # the file, relative to the repository
    line: int
    target: str  # the absolute dotted module name imported

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def module_name(relative: Path) -> str:
    """``diary_core/models/base.py`` → ``diary_core.models.base`` (a package: its name)."""
    parts = list(relative.with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import …`` written in ``module``."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(package) - 1:
        raise ValueError(f"relative import beyond the top-level package in {module}")
    base = package[: len(package) - (level - 1)]
    return ".".join([*base, name] if name else base)


def imports_of(source: str, relative: Path) -> list[Arrow]:
    """Every module ``source`` (the text of the file at ``relative``) imports, anywhere in it."""
    tree = ast.parse(source, filename=str(relative))
    module = module_name(relative)
    is_package = relative.name == "__init__.py"
    found: list[Arrow] = []
    for node in ast.walk(tree):  # every nesting level: functions, TYPE_CHECKING, try blocks
        if isinstance(node, ast.Import):
            found += [Arrow(str(relative), node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = _resolve_relative(module, is_package, node.level, node.module)
            else:
                base = node.module or ""
            found.append(Arrow(str(relative), node.lineno, base))
            # ``from . import gateway_thing`` names modules in its aliases too.
            found += [
                Arrow(str(relative), node.lineno, f"{base}.{alias.name}")
                for alias in node.names
                if alias.name != "*"
            ]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func):
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.append(Arrow(str(relative), node.lineno, first.value))
    return sorted(found, key=lambda arrow: arrow.line)  # ast.walk goes breadth first


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr == "import_module"


def forbidden_arrows(source: str, relative: Path) -> list[Arrow]:
    """The imports of one file that break the arrows, by the package the file belongs to."""
    banned = FORBIDDEN.get(relative.parts[0], frozenset())
    return [a for a in imports_of(source, relative) if a.target.split(".")[0] in banned]


def package_sources() -> Iterator[Path]:
    for package in FORBIDDEN:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_no_forbidden_import_in_the_packages() -> None:
    broken = [
        str(arrow)
        for path in package_sources()
        for arrow in forbidden_arrows(path.read_text(encoding="utf-8"), path.relative_to(ROOT))
    ]
    assert not broken, "imports against the arrows (docs/architecture.md):\n" + "\n".join(broken)


def test_the_checker_sees_the_packages() -> None:
    """Guard against a checker that passes because it walks nothing."""
    files = [p.relative_to(ROOT).parts[0] for p in package_sources()]
    for package in FORBIDDEN:
        assert files.count(package) >= 1, f"no Python file found under {package}/"
    assert files.count("diary_core") > 20


SYNTHETIC = """
from __future__ import annotations
import json
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    from gateway.keys import SETTINGS
def later():
    import gosuslugi_adapter.client
    return gosuslugi_adapter.client
from .. import gateway_like
from ...gateway import app
import importlib
importlib.import_module("gateway.routes")
"""


def test_the_checker_names_every_forbidden_import_of_a_core_module() -> None:
    found = forbidden_arrows(SYNTHETIC, Path("diary_core/a/b/x.py"))
    assert [(a.line, a.target) for a in found] == [
        (6, "gateway.keys"),  # under TYPE_CHECKING
        (6, "gateway.keys.SETTINGS"),
        (8, "gosuslugi_adapter.client"),  # inside a function
        (13, "gateway.routes"),  # importlib.import_module with a literal name
    ]
    # The relative ones stay inside diary_core (``...gateway`` is diary_core.gateway), and
    # a relative import cannot climb out of its top-level package at all:
    with pytest.raises(ValueError, match="beyond the top-level package"):
        imports_of("from .... import gateway\n", Path("diary_core/a/b/x.py"))


def test_relative_imports_are_resolved_against_the_file() -> None:
    source = "from . import policy\nfrom ..models import base\nfrom .x import y\n"
    targets = [a.target for a in imports_of(source, Path("diary_core/admin_views/staff.py"))]
    assert "diary_core.admin_views.policy" in targets
    assert "diary_core.models" in targets
    assert "diary_core.models.base" in targets
    assert "diary_core.admin_views.x" in targets
    package = [a.target for a in imports_of("from . import keys\n", Path("gateway/__init__.py"))]
    assert package == ["gateway", "gateway.keys"]


def test_an_adapter_module_may_not_reach_the_core_or_the_gateway() -> None:
    source = "from diary_core.policy import Actor\nimport gateway.app as g\nimport aiohttp\n"
    found = forbidden_arrows(source, Path("gosuslugi_adapter/client.py"))
    assert [str(a) for a in found] == [
        "gosuslugi_adapter/client.py:1 imports diary_core.policy",
        "gosuslugi_adapter/client.py:1 imports diary_core.policy.Actor",
        "gosuslugi_adapter/client.py:2 imports gateway.app",
    ]


def test_config_may_import_none_of_the_packages() -> None:
    found = forbidden_arrows("from gateway import keys\n", Path("config/settings.py"))
    assert [a.line for a in found] == [1, 1]


def test_the_gateway_may_import_both() -> None:
    source = "from diary_core import marks\nfrom gosuslugi_adapter.client import EsiaClient\n"
    assert forbidden_arrows(source, Path("gateway/handlers/esia.py")) == []


# --- 2. nothing outside the repository ---------------------------------------------------------


def _skipped(path: Path) -> bool:
    """``path`` is, or lies under, a folder that is never part of the repository."""
    if SKIPPED_NAMES.intersection(path.parts):
        return True
    return any("/".join(path.parts[: i + 1]) in SKIPPED_PATHS for i in range(len(path.parts)))


def _walk_tree() -> list[str]:
    """Every file under the repository's root, skipped folders not even entered."""
    names = []
    for folder, dirs, files in os.walk(ROOT):
        here = Path(folder).relative_to(ROOT)
        dirs[:] = [d for d in dirs if not _skipped(here / d)]
        names += [str(here / f) for f in files if not _skipped(here / f)]
    return names


def repository_files() -> list[Path]:
    """The files of the repository: what git tracks or would add (untracked, not ignored);
    without git (an unpacked archive), the tree with the usual litter skipped."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
        names = [n for n in listed.split("\0") if n]
    except (OSError, subprocess.CalledProcessError):
        names = _walk_tree()
    paths = (Path(name) for name in names)
    return sorted(p for p in paths if not _skipped(p) and (ROOT / p).is_file())


def text_of(path: Path) -> str | None:
    """The file as text; None for a binary file."""
    data = (ROOT / path).read_bytes()
    if b"\0" in data:
        return None
    return data.decode("utf-8", errors="replace")


# The patterns are assembled so that this file does not match them itself.
_SHARED = re.compile(r"(?:\.\./|/work/)" + "shared" + r"\b")
_DESIGN_NOTES = re.compile(r"\b(?:" + "DESI" + r"GN\b(?:\.md|\s*§)?|" + "STY" + r"LE\.md)")
_SEED = re.compile(r"\bseed/" + "READ" + r"ME")
#: The word "regulation" followed by a clause number (any case, singular or plural): a clause
#: cited with nothing that says where the regulation is.
_BARE_REGULATION = re.compile(r"\bregulations?\s+(?:clauses?\s+)?\d+\.\d+", re.IGNORECASE)
#: "clause 3.2" must come with "regulation.md" within this many characters either side.
_CLAUSE = re.compile(r"\bclauses?\s+\d+\.\d+", re.IGNORECASE)
CLAUSE_CONTEXT = 200
REGULATION_DOC = Path("docs/regulation.md")


def outside_references(text: str, path: Path) -> list[str]:
    """What in ``text`` (the file at ``path``) refers to something outside the repository."""
    problems: list[str] = []

    def report(match: re.Match[str], why: str) -> None:
        line = text.count("\n", 0, match.start()) + 1
        problems.append(f"{path}:{line}: {match.group(0)!r} {why}")

    for match in _SHARED.finditer(text):
        report(match, "points outside the repository")
    for match in _DESIGN_NOTES.finditer(text):
        report(match, "cites design notes the repository does not carry (cite docs/…)")
    for match in _SEED.finditer(text):
        report(match, "cites the regulation's source outside the repository")
    if path == REGULATION_DOC:
        return problems
    for match in _BARE_REGULATION.finditer(text):
        report(match, 'cites the regulation by number: write "docs/regulation.md, clause N.N"')
    for match in _CLAUSE.finditer(text):
        around = text[max(0, match.start() - CLAUSE_CONTEXT) : match.end() + CLAUSE_CONTEXT]
        if "regulation.md" not in around:
            report(match, "names a clause without docs/regulation.md beside it")
    return problems


def test_without_git_the_tree_is_walked_skipping_litter() -> None:
    walked = {Path(name) for name in _walk_tree()}
    assert Path("README.md") in walked and Path("docs/regulation.md") in walked
    assert not any(_skipped(p) for p in walked)
    assert _skipped(Path("node_modules")) and _skipped(Path(".venv/lib/x.py"))


def test_no_file_refers_outside_the_repository() -> None:
    files = repository_files()
    assert Path("README.md") in files and REGULATION_DOC in files
    problems = [
        problem
        for path in files
        if (text := text_of(path)) is not None
        for problem in outside_references(text, path)
    ]
    assert not problems, "references outside the repository:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    "text",
    [
        "see " + "../" + "shared/notes.md",
        "copied from /work/" + "shared/seed",
        "as " + "STY" + "LE.md asks",
        "the contract of " + "DESI" + "GN §5",
        "as " + "DESI" + "GN.md says",
        "the " + "seed/" + "READ" + "ME" + " table",
        '"""Messages (' + "regulation" + ' 3.2, 5.1)."""',
        "# " + "Regulation" + " 5.1: a week",
        "the rule of " + "clause" + " 4.1 applies",
    ],
)
def test_outside_references_are_caught(text: str) -> None:
    assert outside_references(text, Path("diary_core/x.py"))


@pytest.mark.parametrize(
    "text",
    [
        '"""Messages (docs/regulation.md, clauses 3.2 and 5.1)."""',
        "# docs/regulation.md, clause 5.1: a teacher answers within a week",
        "the [clause 4.1](regulation.md#41-timetable-changes-and-meetings) rule",
        "a designed feature, by design",
    ],
)
def test_references_inside_the_repository_pass(text: str) -> None:
    assert outside_references(text, Path("diary_core/x.py")) == []


# --- 3. docs that cannot go stale silently ----------------------------------------------------

_LINK = re.compile(r"(?<!!)\[(?:[^\]\n]|\n(?!\n))*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*([^)\s]+)")
_FENCE = re.compile(r"^(```|~~~).*?^\1", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_PATH = re.compile(r"[\w.*-]+(?:/[\w.*-]*)+")
_DOTTED = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
TOP_FILES = ("README.md", "pyproject.toml", "package.json", "package-lock.json", ".gitignore")


def markdown_files() -> list[Path]:
    return [Path("README.md"), *sorted(p.relative_to(ROOT) for p in (ROOT / "docs").rglob("*.md"))]


def without_fences(text: str) -> str:
    """The Markdown with its fenced blocks blanked (line numbers kept)."""
    return _FENCE.sub(lambda m: "\n" * m.group(0).count("\n"), text)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|__|\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return "".join(ch for ch in text if ch.isalnum() or ch in "-_ ").replace(" ", "-")


@functools.cache
def anchors(path: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    found = set()
    for match in _HEADING.finditer(without_fences((ROOT / path).read_text(encoding="utf-8"))):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return frozenset(found)


def broken_links(text: str, path: Path) -> list[str]:
    """Relative links of the Markdown file ``path`` that lead nowhere in the repository."""
    problems = []
    body = without_fences(text)
    for match in [*_LINK.finditer(body), *_IMAGE.finditer(body)]:
        target = match.group(1)
        line = body.count("\n", 0, match.start()) + 1
        if re.match(r"[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, mailto:, …
            continue
        file_part, _, fragment = target.partition("#")
        resolved = (ROOT / path.parent / file_part).resolve() if file_part else ROOT / path
        try:
            inside = resolved.relative_to(ROOT)
        except ValueError:
            problems.append(f"{path}:{line}: link {target!r} leaves the repository")
            continue
        if not resolved.exists():
            problems.append(f"{path}:{line}: link {target!r}: no such file {inside}")
        elif fragment and resolved.suffix == ".md" and fragment not in anchors(inside):
            problems.append(f"{path}:{line}: link {target!r}: no heading #{fragment} in {inside}")
    return problems


def _defines(tree: ast.Module | ast.ClassDef, name: str) -> ast.AST | None:
    """The statement of ``tree``'s own body that binds ``name`` (def, class, assignment,
    import), or None."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if node.name == name:
                return node
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return node
        elif isinstance(node, ast.Import | ast.ImportFrom):
            if any((a.asname or a.name.split(".")[0]) == name for a in node.names):
                return node
        elif isinstance(node, ast.If | ast.Try):  # TYPE_CHECKING blocks, optional imports
            inner = ast.Module(body=[*node.body, *getattr(node, "orelse", [])], type_ignores=[])
            if (found := _defines(inner, name)) is not None:
                return found
    return None


def missing_name(dotted: str) -> str | None:
    """Why the dotted name of one of our packages names nothing; None when it exists."""
    parts = dotted.split(".")
    module_path = ROOT
    for i, part in enumerate(parts):
        package_dir, module_file = module_path / part, module_path / f"{part}.py"
        if package_dir.is_dir() and (package_dir / "__init__.py").exists():
            module_path = package_dir
            continue
        if module_file.exists():
            source = module_file.read_text(encoding="utf-8")
            rest = parts[i + 1 :]
        elif i == 0:
            return f"no package {part}"
        else:
            source = (module_path / "__init__.py").read_text(encoding="utf-8")
            rest = parts[i:]
        scope: ast.Module | ast.ClassDef = ast.parse(source)
        for j, name in enumerate(rest):
            found = _defines(scope, name)
            if found is None:
                where = ".".join(parts[: len(parts) - len(rest) + j])
                return f"{where} defines no {name}"
            if not isinstance(found, ast.ClassDef):
                return None  # a function's or a value's attributes are not checked
            scope = found
        return None
    return None


def missing_test(file: str, name: str) -> str | None:
    """Why ``file::name`` names no test (a function or class at the file's top level)."""
    path = ROOT / file
    if not path.is_file():
        return "no such file in the repository"
    if _defines(ast.parse(path.read_text(encoding="utf-8")), name) is None:
        return f"{file} defines no {name}"
    return None


def stale_code_spans(text: str, path: Path) -> list[str]:
    """Backticked repository paths that do not exist, and backticked dotted names of our
    packages that name nothing."""
    problems = []
    body = without_fences(text)
    for match in _CODE_SPAN.finditer(body):
        span = match.group(1).strip()
        line = body.count("\n", 0, match.start()) + 1
        candidate = re.sub(r":\d+$", "", span)  # gateway/portal/smev.py:120
        candidate, _, test_name = candidate.partition("::")  # tests/…py::test_name
        if test_name:
            why = missing_test(candidate, test_name)
            if why is not None:
                problems.append(f"{path}:{line}: `{span}`: {why}")
            continue
        if _PATH.fullmatch(candidate) and (
            candidate.split("/")[0] in (*PACKAGES, "tests", "bench", "docs", ".ci")
        ):
            if "*" in candidate:
                exists = any(ROOT.glob(candidate))
            else:
                exists = (ROOT / candidate).exists()
            if not exists:
                problems.append(f"{path}:{line}: `{span}`: no such path in the repository")
        elif candidate in TOP_FILES and not (ROOT / candidate).exists():
            problems.append(f"{path}:{line}: `{span}`: no such file in the repository")
        elif _DOTTED.fullmatch(candidate) and candidate.split(".")[0] in PACKAGES:
            if (why := missing_name(candidate)) is not None:
                problems.append(f"{path}:{line}: `{span}`: {why}")
    return problems


def test_markdown_links_resolve_inside_the_repository() -> None:
    problems = [
        problem
        for path in markdown_files()
        for problem in broken_links((ROOT / path).read_text(encoding="utf-8"), path)
    ]
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_backticked_paths_and_names_in_the_docs_exist() -> None:
    problems = [
        problem
        for path in markdown_files()
        for problem in stale_code_spans((ROOT / path).read_text(encoding="utf-8"), path)
    ]
    assert not problems, "docs naming what is not there:\n" + "\n".join(problems)


def test_stale_links_and_names_are_caught() -> None:
    doc = Path("docs/example.md")
    text = (
        "# Title\n\nSee [the portal](portal.md), [gone](gone.md), [up](../../etc/passwd),\n"
        "[no heading](portal.md#no-such-heading), [web](https://example.org/x.md).\n"
        "```\n[in a fence](nowhere.md) `gateway/nowhere.py`\n```\n"
    )
    problems = broken_links(text, doc)
    assert len(problems) == 3, problems
    assert "gone.md" in problems[0] and "leaves the repository" in problems[1]
    assert "no heading #no-such-heading" in problems[2]
    spans = (
        "`gateway/portal/smev.py` `gateway/portal/nowhere.py` `tests/unit/*.py` "
        "`diary_core.marks.record_mark` `diary_core.marks.no_such_use_case` "
        "`diary_core.nowhere` `gosuslugi_adapter.client.EsiaClient.authorization_request` "
        "`gosuslugi_adapter.client.EsiaClient.no_method` `aiohttp.web.Request` `/portal/v1` "
        "`tests/unit/test_grading.py::test_accepted_marks` `tests/unit/test_grading.py::test_gone` "
        "`tests/unit/gone.py::test_x`"
    )
    stale = stale_code_spans(spans, doc)
    assert [s.split("`")[1] for s in stale] == [
        "gateway/portal/nowhere.py",
        "diary_core.marks.no_such_use_case",
        "diary_core.nowhere",
        "gosuslugi_adapter.client.EsiaClient.no_method",
        "tests/unit/test_grading.py::test_gone",
        "tests/unit/gone.py::test_x",
    ], stale


def test_heading_anchors_follow_github() -> None:
    assert slug("Importing rosters and marks") == "importing-rosters-and-marks"
    assert slug("2. Getting a token (OAuth 2.0, `private_key_jwt`)") == (
        "2-getting-a-token-oauth-20-private_key_jwt"
    )
    assert slug("Настоящая школа, шаг за шагом") == "настоящая-школа-шаг-за-шагом"


CONFIGURATION_DOC = Path("docs/configuration.md")


def undocumented_settings(doc: str) -> list[str]:
    """The settings (``section.key``) whose key is not in a table row of ``doc``'s section."""
    import tomllib

    defaults = tomllib.loads((ROOT / "config/default.toml").read_text(encoding="utf-8"))
    sections = {m.group(1): m.start() for m in re.finditer(r"^## `\[(\w+)\]`", doc, re.M)}
    missing = []
    for section, keys in defaults.items():
        start = sections.get(section)
        if start is None:
            missing += [f"{section}.{key}" for key in keys]
            continue
        end = min([p for p in sections.values() if p > start] + [len(doc)])
        body = doc[start:end]
        missing += [f"{section}.{key}" for key in keys if f"| `{key}` |" not in body]
    return missing


def test_every_setting_is_documented() -> None:
    doc = (ROOT / CONFIGURATION_DOC).read_text(encoding="utf-8")
    missing = undocumented_settings(doc)
    assert not missing, f"settings missing from {CONFIGURATION_DOC}: {', '.join(missing)}"


def test_an_undocumented_setting_is_caught() -> None:
    doc = (ROOT / CONFIGURATION_DOC).read_text(encoding="utf-8")
    assert "server.timezone" in undocumented_settings(doc.replace("| `timezone` |", "| tz |"))
