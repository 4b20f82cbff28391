"""README stays true to the repository: waivers, commands and config keys it documents."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from staticip.config import environment_keys

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()


def test_every_checkov_waiver_has_a_reason_and_is_listed_in_readme():
    raw = (REPO / ".checkov.yaml").read_text()
    waived = yaml.safe_load(raw)["skip-check"]
    assert waived
    for check in waived:
        line = next(line for line in raw.splitlines() if re.search(rf"- {check}\b", line))
        assert "#" in line and len(line.split("#", 1)[1].strip()) > 20, check
        assert check in README, f"{check} waived in .checkov.yaml but not explained in README"


def test_every_environment_key_is_documented():
    for key in environment_keys():
        assert f"`{key}" in README, key


def test_ci_runs_the_test_command_readme_gives():
    ci = (REPO / ".ci" / "run").read_text()
    for command in ("make synth", "make test"):
        assert command in README and command in ci
