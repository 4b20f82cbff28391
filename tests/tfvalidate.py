"""`terraform validate` of synthesized stacks where a terraform binary and a local provider
mirror exist (no network: providers come only from the mirror); skipped, with the reason,
where they don't. Shared by the stack, account and example tests.

Several stacks are validated in one run, each as a child module of one root configuration:
every `terraform validate` starts the AWS provider and loads its schema of ~1,500 resource
types (~2.7 s of CPU here, init included), whatever the size of the configuration, while
four stacks together took 4.1 s (`/usr/bin/time`). Terraform names the file of each
diagnostic, so each is still reported against its own stack."""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tfharness import DEFAULT_PLUGIN_DIR, Terraform, mirrored_providers

MIRROR = DEFAULT_PLUGIN_DIR

Diagnostic = dict[str, Any]


def mirrored_versions(provider: str) -> list[str]:
    """The versions of hashicorp/`provider` the mirror holds, oldest first."""
    return mirrored_providers(MIRROR).get(f"hashicorp/{provider}", [])


@dataclass(frozen=True)
class Validation:
    """What one `terraform validate` said about each of several stacks, by label."""

    diagnostics: Mapping[str, list[Diagnostic]]
    #: label -> why the stack could not be validated here (no terraform, a provider missing).
    skipped: Mapping[str, str]

    def to_json(self) -> dict[str, Any]:
        return {"diagnostics": dict(self.diagnostics), "skipped": dict(self.skipped)}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Validation:
        return cls(document["diagnostics"], document["skipped"])

    def of(self, label: str) -> list[Diagnostic]:
        """The stack's diagnostics (and those Terraform tied to no stack); skips the calling
        test, with the reason, where the stack could not be validated."""
        if label in self.skipped:
            pytest.skip(self.skipped[label])
        return self.diagnostics[label]

    def assert_valid(self, *labels: str) -> None:
        """No error for any of `labels`; the failure lists each invalid stack's diagnostics."""
        found = {label: self.of(label) for label in labels}
        invalid = {
            label: diagnostics
            for label, diagnostics in found.items()
            if any(d["severity"] == "error" for d in diagnostics)
        }
        assert not invalid, json.dumps(invalid, indent=1)


def validate_together(stacks: Mapping[str, dict[str, Any]], workdir: Path) -> Validation:
    """`terraform validate -json` on `stacks` (label -> synthesized stack, left unchanged),
    each a child module, with every provider at its mirrored version."""
    terraform = shutil.which("terraform")
    if terraform is None:
        return Validation({}, dict.fromkeys(stacks, "no terraform binary on PATH"))
    prepared: dict[str, dict[str, Any]] = {}
    skipped: dict[str, str] = {}
    for label, stack in stacks.items():
        ready = for_the_mirror(stack)
        missing = [p for p in ready["terraform"]["required_providers"] if not mirrored_versions(p)]
        if missing:
            skipped[label] = (
                f"provider(s) {', '.join(missing)} not in the mirror {MIRROR} "
                "(set STATICIP_TF_PLUGIN_DIR to one that has them)"
            )
        else:
            prepared[label] = ready
    if not prepared:
        return Validation({}, skipped)
    module_of = {f"stack{index}": label for index, label in enumerate(prepared)}
    root: dict[str, Any] = {"module": {}}
    for module, label in module_of.items():
        (workdir / module).mkdir()
        (workdir / module / "cdk.tf.json").write_text(json.dumps(prepared[label]))
        root["module"][module] = {"source": f"./{module}"}
        # A child module's variables without a default must be set by its caller: from root
        # variables, which `validate` leaves unknown, as it does a lone stack's.
        for name, spec in prepared[label].get("variable", {}).items():
            if "default" not in spec:
                outer = f"{module}_{name}"
                root.setdefault("variable", {})[outer] = {"type": spec.get("type", "any")}
                root["module"][module][name] = f"${{var.{outer}}}"
    (workdir / "main.tf.json").write_text(json.dumps(root))
    # Providers from the mirror through the run's one plugin cache (tests/tfharness.py).
    tf = Terraform(terraform, workdir, MIRROR)
    tf.init("-backend=false")
    result = json.loads(tf.run("validate", "-json", "-no-color", ok=(0, 1)).stdout)
    found: dict[str, list[Diagnostic]] = {label: [] for label in prepared}
    for diagnostic in result["diagnostics"]:
        module = diagnostic.get("range", {}).get("filename", "").split("/")[0]
        # A diagnostic in no stack's file (the root's, or none) counts against every stack.
        for label in [module_of[module]] if module in module_of else prepared:
            found[label].append(diagnostic)
    return Validation(found, skipped)


def for_the_mirror(stack: dict[str, Any]) -> dict[str, Any]:
    """A copy of `stack` that the mirror can validate: each provider at its mirrored version,
    no backend, and without hashicorp/external when the mirror lacks it."""
    ready = copy.deepcopy(stack)
    if not mirrored_versions("external"):
        # The ENI lookup's result replaced by a literal ENI ID (tests/test_dev_wiring.py checks
        # that lookup against the resolver instead).
        ready = without_external(ready)
    # The bindings pin the AWS provider 6.25.0; a mirror may hold another version. Every
    # attribute these stacks use exists in both 5.x and 6.x, so validating against the mirrored
    # version still catches a misspelt attribute or a wrong block shape.
    for provider, spec in ready["terraform"]["required_providers"].items():
        if versions := mirrored_versions(provider):
            spec["version"] = versions[-1]
    ready["terraform"].pop("backend", None)
    return ready


def without_external(stack: dict) -> dict:
    lookups = stack.get("data", {}).pop("external", {})
    stack["provider"].pop("external", None)
    stack["terraform"]["required_providers"].pop("external", None)
    text = json.dumps(stack)
    for logical_id in lookups:
        text = re.sub(
            rf"\$\{{data\.external\.{logical_id}\.result\[[^\]]+\]\}}",
            "eni-0123456789abcdef0",
            text,
        )
    assert "data.external" not in text
    return json.loads(text)
