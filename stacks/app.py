"""Build the CDKTF app: one stack per environment of the config file."""

from __future__ import annotations

from collections.abc import Sequence

from cdktf import App

from stacks.eni_eip import DEFAULT_RESOLVER_COMMAND
from stacks.environment import EnvironmentStack, EnvironmentStackProps
from staticip.config import Config


def build_app(
    config: Config, outdir: str, resolver_command: Sequence[str] = DEFAULT_RESOLVER_COMMAND
) -> App:
    app = App(outdir=outdir)
    for env in config.environments:
        EnvironmentStack(
            app,
            EnvironmentStackProps(
                project=config.project, env=env, resolver_command=resolver_command
            ),
        )
    return app
