"""Several stacks in one `terraform validate` (tests/tfvalidate.py): each diagnostic still
counts against the stack it is in, and only that one."""

from __future__ import annotations

from typing import Any

import pytest
from tfvalidate import mirrored_versions, validate_together


def small_stack(**eip: Any) -> dict[str, Any]:
    return {
        "terraform": {
            "required_providers": {"aws": {"source": "hashicorp/aws", "version": "6.25.0"}},
            "backend": {"local": {"path": "terraform.tfstate"}},
        },
        "provider": {"aws": [{"region": "eu-west-1"}]},
        "resource": {"aws_eip": {"ip": {"domain": "vpc", **eip}}},
    }


@pytest.mark.terraform
def test_an_error_in_one_stack_is_that_stacks_alone(tmp_path):
    if not mirrored_versions("aws"):
        pytest.skip("hashicorp/aws is not in the mirror")
    # A variable without a default: the combined root must set it, as validating the stack
    # alone leaves it unknown.
    needs_a_name = small_stack(tags={"Name": "${var.name}"})
    needs_a_name["variable"] = {"name": {"type": "string"}}
    stacks = {
        "good": small_stack(),
        "named": needs_a_name,
        "misspelt": small_stack(netwrok_border_group="eu-west-1"),
    }

    validation = validate_together(stacks, tmp_path)

    assert validation.of("good") == []
    assert validation.of("named") == []
    (error,) = validation.of("misspelt")
    assert error["severity"] == "error" and "netwrok_border_group" in error["detail"]
    validation.assert_valid("good", "named")
    with pytest.raises(AssertionError, match="netwrok_border_group"):
        validation.assert_valid("good", "misspelt")
    # The stacks handed in are left as they were (the caller's, often a session's).
    assert "backend" in stacks["good"]["terraform"]


def test_a_stack_needing_a_provider_the_mirror_lacks_is_skipped_alone(tmp_path, monkeypatch):
    monkeypatch.setattr("tfvalidate.shutil.which", lambda _: "/usr/bin/terraform")
    monkeypatch.setattr("tfvalidate.mirrored_versions", lambda provider: [])
    validation = validate_together({"any": small_stack()}, tmp_path)
    assert "aws" in validation.skipped["any"]
    with pytest.raises(pytest.skip.Exception, match="not in the mirror"):
        validation.of("any")
