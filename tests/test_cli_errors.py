"""Every AWS-facing command fails the same documented way: one stderr line, exit 1 when AWS
could not be reached or refused, exit 2 for the user's own input, 1 when the environment is not
there."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eni_fixtures import use_fake_aws
from moto import mock_aws

from staticip.cli import main

SHIPPED = str(Path(__file__).resolve().parent.parent / "staticip.toml")
COMMANDS = {
    "enis": ["enis", "--function", "staticip-dev-egress-probe"],
    "verify": ["verify", "dev", "--config", SHIPPED, "--count", "2"],
    "doctor": ["doctor", "dev", "--config", SHIPPED],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_credentials_is_one_line_naming_the_fix(command, monkeypatch, capsys):
    use_fake_aws(monkeypatch, credentials=False)
    assert main(COMMANDS[command]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith(f"staticip {command}: ")
    assert "credentials" in lines[0].lower()
    assert captured.out == ""


@pytest.mark.parametrize("command", ["verify", "doctor"])
def test_an_unknown_environment_is_a_usage_error(command, monkeypatch, capsys):
    use_fake_aws(monkeypatch)
    assert main([command, "staging", "--config", SHIPPED]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no environment named 'staging'" in err


def test_enis_for_a_function_not_in_the_region_is_a_usage_error(monkeypatch, capsys):
    use_fake_aws(monkeypatch)
    with mock_aws():
        assert main(COMMANDS["enis"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "staticip-dev-egress-probe" in err


def test_an_environment_with_nothing_deployed_is_a_problem_not_a_crash(monkeypatch, capsys):
    use_fake_aws(monkeypatch)
    with mock_aws():
        verify_code = main(COMMANDS["verify"])
        verify_out = capsys.readouterr()
        doctor_code = main(COMMANDS["doctor"] + ["--json"])
        doctor_out = capsys.readouterr()
    assert verify_code == 1
    assert "allow-listed" in (verify_out.out + verify_out.err)
    assert doctor_code == 1
    report = json.loads(doctor_out.out)
    assert report["healthy"] is False
    problems = [f for f in report["findings"] if f["severity"] in ("warning", "error")]
    assert problems and all(f["fix"] for f in problems)
