"""`.pre-commit-config.yaml`: the hooks it lists, the ruff it pins, and a local hook that runs an
existing staleness test."""

from __future__ import annotations

import ast
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
CONFIG = REPO / ".pre-commit-config.yaml"
RUFF = "https://github.com/astral-sh/ruff-pre-commit"
HOOKS = "https://github.com/pre-commit/pre-commit-hooks"


@pytest.fixture(scope="module")
def repos() -> dict[str, dict[str, Any]]:
    return {repo["repo"]: repo for repo in yaml.safe_load(CONFIG.read_text())["repos"]}


def hooks(repo: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {hook["id"]: hook for hook in repo["hooks"]}


#: Local hook -> files whose change must run it, and one whose change must not.
STALENESS_HOOKS = {
    "cost-chart-stale": (
        ("staticip.toml", "staticip/prices.toml", "staticip/cost.py", "docs/cost.svg"),
        "tests/test_cost.py",
    ),
    "configuration-reference-stale": (
        ("staticip/config.py", "staticip/modes/nat_instance.py", "docs/configuration.md"),
        "tests/test_config.py",
    ),
}


@pytest.fixture(scope="module", params=sorted(STALENESS_HOOKS))
def stale_hook(request: pytest.FixtureRequest, repos: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return hooks(repos["local"])[request.param]


def test_the_hooks_listed(repos: dict[str, dict[str, Any]]) -> None:
    assert set(repos) == {RUFF, HOOKS, "local"}
    assert set(hooks(repos[RUFF])) == {"ruff-check", "ruff-format"}
    assert set(hooks(repos[HOOKS])) == {"end-of-file-fixer", "trailing-whitespace"}
    assert set(hooks(repos["local"])) == set(STALENESS_HOOKS)
    # A release tag, never a branch that moves under the hook.
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repos[HOOKS]["rev"])


def test_ruff_is_the_locked_version(repos: dict[str, dict[str, Any]]) -> None:
    (locked,) = re.findall(r"^ruff==(\S+)$", (REPO / "requirements.lock").read_text(), re.M)
    assert repos[RUFF]["rev"] == f"v{locked}"


def test_the_whitespace_hooks_leave_the_generated_chart_alone(
    repos: dict[str, dict[str, Any]],
) -> None:
    for hook in hooks(repos[HOOKS]).values():
        assert re.search(hook["exclude"], "docs/cost.svg"), hook["id"]
        assert not re.search(hook["exclude"], "docs/functions.md"), hook["id"]


def test_the_local_hook_names_a_staleness_test_that_exists(stale_hook: dict[str, Any]) -> None:
    python, *args = shlex.split(stale_hook["entry"])
    assert python == ".venv/bin/python" and args[:2] == ["-m", "pytest"]
    (node,) = [a for a in args if "::" in a]
    path, name = node.split("::")
    module = ast.parse((REPO / path).read_text())
    (test,) = [f for f in module.body if isinstance(f, ast.FunctionDef) and f.name == name]
    assert "stale" in ast.unparse(test)  # the generated-versus-file comparison, not another test
    assert stale_hook["language"] == "system" and stale_hook["pass_filenames"] is False
    changes, unrelated = STALENESS_HOOKS[stale_hook["id"]]
    for changed in changes:
        assert re.search(stale_hook["files"], changed), changed
    assert not re.search(stale_hook["files"], unrelated)


def test_the_local_hook_runs_exactly_one_passing_test(stale_hook: dict[str, Any]) -> None:
    # The hook's own command line, with this interpreter for the project's virtualenv.
    _, *args = shlex.split(stale_hook["entry"])
    result = subprocess.run(
        [sys.executable, *args], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"^1 passed\b", result.stdout, re.M), result.stdout


def test_readme_says_how_to_install_the_hooks() -> None:
    assert "pre-commit install" in (REPO / "docs" / "testing.md").read_text()
