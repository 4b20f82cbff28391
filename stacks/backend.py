"""Terraform state backend for an environment: a local file, or S3 with native locking."""

from __future__ import annotations

from cdktf import LocalBackend, S3Backend, TerraformStack

from staticip.config import EnvironmentConfig
from staticip.names import local_state_file


def configure_backend(stack: TerraformStack, env: EnvironmentConfig) -> None:
    """Local state sits at the repository root as `terraform.<env>.tfstate` (relative to
    `cdktf.out/stacks/<env>`, so a fresh synth never loses it and no absolute path of this
    machine ends up in the JSON). With a bucket: S3, encrypted, with Terraform's own
    lockfile (Terraform >= 1.10) instead of a DynamoDB table."""
    if env.backend.bucket is None:
        LocalBackend(stack, path=f"../../../{local_state_file(env.name)}")
        return
    backend = S3Backend(
        stack,
        bucket=env.backend.bucket,
        key=env.backend.key or f"staticip/{env.name}/terraform.tfstate",
        region=env.backend.region or env.region,
        encrypt=True,
    )
    # cdktf 0.21's S3Backend predates `use_lockfile`; the override writes it as-is.
    backend.add_override("use_lockfile", True)
