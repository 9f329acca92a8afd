"""The house rules that keep one home for every shared rule (docs/architecture.md).

- imports run one way: ``assessments`` ← ``councils`` ← ``reporting`` ← ``demo``;
- view modules are imported by URL files only (builders import presentation modules);
- views do not query the protected models themselves: lookups go through ``access.py``
  and loaders;
- the score columns are read by the results ledger only (``assessments/results.py``), besides
  the models and the services that write them: not by views, builders or templates.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.imports import FLOORS, ROOT, Import, app_files, cross_app_imports, imports_of

# The score columns of ItemScore (DESIGN §4.4): self, appraisal rounds, survey.
SCORE_COLUMNS = re.compile(
    r"(?<![A-Za-z0-9_])(self_score|survey_score|appraisal[12]_(score|na|at|value|by))(?![A-Za-z0-9])"
)
# Where they may be named: the ledger, the models, the services that write them, and the
# demo, which writes a whole province in bulk (every value through ``services.evaluate``).
SCORE_WRITERS = {
    Path("assessments/results.py"),
    Path("assessments/models.py"),
    Path("assessments/services.py"),
    Path("councils/services.py"),
    Path("demo/management/commands/seed_demo.py"),
}
# A unit's data: views reach these only through access functions and loaders.
PROTECTED_MODELS = {
    "UnitAssessment",
    "ItemScore",
    "Evidence",
    "EvidenceLink",
    "ExplanationRequest",
    "Opinion",
}


def is_view_module(path: Path) -> bool:
    return path.stem == "views" or path.stem.endswith("_views")


def test_no_import_runs_back_up_a_floor() -> None:
    up = [f"{e.path}:{e.line} imports {e.module}" for e in cross_app_imports() if e.runs_up]
    assert up == [], "\n".join(up)


def test_the_floor_check_sees_an_import_running_up(tmp_path: Path) -> None:
    # The check itself: a ground-floor module importing the council app is caught.
    entry = Import(Path("assessments/services.py"), 1, "councils.services")
    assert entry.runs_up
    assert not Import(Path("reporting/pdf.py"), 1, "assessments.results").runs_up


def test_every_app_has_a_floor() -> None:
    apps = {
        path.parent.name
        for path in ROOT.glob("*/apps.py")
        if path.parent.name not in {"cchc_portal", "tests"}
    }
    assert apps == set(FLOORS)


def test_view_modules_are_imported_by_url_files_only() -> None:
    offenders = []
    for path in app_files():
        if path.stem == "urls" or path.stem.endswith("_urls"):
            continue
        for entry in imports_of(path):
            imported = entry.module.split(".")[-1]
            if (imported == "views" or imported.endswith("_views")) and entry.target_app in FLOORS:
                offenders.append(f"{entry.path}:{entry.line} imports {entry.module}")
    assert offenders == [], "\n".join(offenders)


def test_views_do_not_query_the_protected_models() -> None:
    offenders = []
    for path in app_files(tuple(FLOORS)):
        if not is_view_module(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "objects"
                and isinstance(node.value, ast.Name)
                and node.value.id in PROTECTED_MODELS
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.objects")
    assert offenders == [], "\n".join(offenders)


def test_only_the_ledger_and_the_writers_read_the_score_columns() -> None:
    """Python modules and templates alike: pages show scores through ``results.item_scores``
    (the ``scores`` template filter), never the columns."""
    offenders = []
    templates = sorted((ROOT / "templates").rglob("*.html"))
    for path in [*app_files(tuple(FLOORS)), *templates]:
        relative = path.relative_to(ROOT)
        if relative in SCORE_WRITERS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if SCORE_COLUMNS.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == [], "\n".join(offenders)


@pytest.mark.parametrize(
    "line",
    [
        'row["appraisal2_score"]',
        "item.self_score",
        "filter(appraisal1_at__isnull=True)",
        '"survey_score"',
    ],
)
def test_the_score_column_check_sees_a_read(line: str) -> None:
    assert SCORE_COLUMNS.search(line)


@pytest.mark.parametrize(
    "line", ["round_.appraisal1_deadline", "services.accept_self_score(item)", "unit_score"]
)
def test_the_score_column_check_leaves_other_names_alone(line: str) -> None:
    assert not SCORE_COLUMNS.search(line)
