"""Build the CDKTF app: one stack per environment of the config file."""

from __future__ import annotations

from cdktf import App

from stacks.environment import EnvironmentStack, EnvironmentStackProps
from staticip.config import Config


def build_app(config: Config, outdir: str) -> App:
    app = App(outdir=outdir)
    for env in config.environments:
        EnvironmentStack(
            app, EnvironmentStackProps(project=config.project, env=env, config_path=config.path)
        )
    return app
