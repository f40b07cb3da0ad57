"""The `crmconf` command group; commands register themselves on it."""

from __future__ import annotations

import logging

import click

from crmconf import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crmconf")
def main() -> None:
    """CRM settings as code: validate, plan and apply a YAML configuration."""
    # Library notices (retries, a lock left behind) reach the user as plain lines.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.addLevelName(logging.WARNING, "warning")
