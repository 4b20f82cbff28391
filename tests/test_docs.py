"""README stays true to the repository: waivers, commands and config keys it documents."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from staticip.config import environment_keys
from staticip.config_reference import render
from staticip.function_config import DECLARED_FUNCTION_KEYS, FUNCTION_KEYS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
DOCS = REPO / "docs"
#: The README is a front page; everything else lives on these pages.
MAX_README_LINES = 250


def page(name: str) -> str:
    return (DOCS / name).read_text()


def test_every_checkov_waiver_has_a_reason_and_is_listed_in_readme():
    raw = (REPO / ".checkov.yaml").read_text()
    waived = yaml.safe_load(raw)["skip-check"]
    assert waived
    for check in waived:
        line = next(line for line in raw.splitlines() if re.search(rf"- {check}\b", line))
        assert "#" in line and len(line.split("#", 1)[1].strip()) > 20, check
        assert check in page("security.md"), f"{check} waived but not explained in security.md"


def test_the_configuration_reference_is_generated_from_the_schema():
    # `make docs` writes it; a key added to the schema without regenerating fails here.
    assert page("configuration.md") == render(), "docs/configuration.md is stale: run make docs"
    reference = page("configuration.md")
    for key in environment_keys() | FUNCTION_KEYS | DECLARED_FUNCTION_KEYS:
        assert f"| `{key}` |" in reference, key


def test_the_reference_shows_each_keys_type_default_and_meaning():
    environment = render().split("## `[environments.<name>]`", 1)[1].split("\n## ", 1)[0]
    rows = {
        cells[0].strip("`"): cells
        for line in environment.splitlines()
        if line.startswith("| `")
        for cells in [[c.strip() for c in line.strip("| ").split(" | ")]]
    }
    assert set(rows) == set(environment_keys())
    # Types and defaults come from the fields, the modes' options and the derived defaults.
    assert rows["protect_ips"][1:3] == ["boolean", "true"]
    assert rows["nat_instance_type"][1:3] == ["string", '"t4g.nano"']
    assert rows["region"][2] == '"us-east-1"' and rows["vpc_cidr"][2] == "required"
    assert rows["canary"][1] == "string or false"
    assert 'egress = "nat-instance"' in rows["nat_instance_ssm"][4]
    assert all(cells[3] for cells in rows.values()), "a key without meaning"


def test_ci_runs_the_test_command_readme_gives():
    ci = (REPO / ".ci" / "run").read_text()
    for command in ("make synth", "make test"):
        assert command in README and command in ci


def test_the_terraform_attach_snippet_in_the_docs_is_the_file_e2e_applies():
    # The e2e test applies docs/attach/terraform/main.tf; the page must show that file, not a copy
    # that drifted from it.
    snippet = (REPO / "docs" / "attach" / "terraform" / "main.tf").read_text().rstrip()
    assert f"```hcl\n{snippet}\n```" in page("functions.md")


def test_readme_is_a_front_page_of_links_that_exist():
    assert len(README.splitlines()) <= MAX_README_LINES
    for target in re.findall(r"\]\(((?:docs|examples)/[^)#]*)", README):
        assert (REPO / target).exists(), target
    # Every page of docs/ is reachable from the front page.
    for doc in DOCS.glob("*.md"):
        assert f"](docs/{doc.name})" in README, doc.name


def test_docs_pages_link_only_to_files_that_exist():
    for doc in [*DOCS.glob("*.md"), *REPO.glob("examples/**/README.md")]:
        for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", doc.read_text()):
            assert (doc.parent / target).resolve().exists(), f"{doc} -> {target}"


def test_nlb_eip_is_never_called_tls_passthrough():
    # The NLB forwards TCP; TLS ends on the ALB behind it (issue 23). Docstrings and docs alike.
    texts = [REPO / "README.md", *REPO.glob("docs/**/*.md"), *REPO.glob("stacks/*.py")]
    texts += list(REPO.glob("staticip/**/*.py"))
    said = [
        p.relative_to(REPO)
        for p in texts
        if any(w in p.read_text().lower() for w in ("tls passthrough", "tls pass-through"))
    ]
    assert said == []
