"""The `crmconf` command group; commands register themselves on it."""

from __future__ import annotations

import gc
import logging

import click

from crmconf import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crmconf")
@click.option(
    "--allow-outside-root",
    is_flag=True,
    help="Let a configuration directory hold links to files outside it.",
)
def main(allow_outside_root: bool) -> None:
    """CRM settings as code: validate, plan and apply a YAML configuration."""
    if allow_outside_root:
        from crmconf.config.loader import OUTSIDE_ROOT_ALLOWED

        token = OUTSIDE_ROOT_ALLOWED.set(True)
        click.get_current_context().call_on_close(lambda: OUTSIDE_ROOT_ALLOWED.reset(token))
    # A command builds hundreds of thousands of long-lived, acyclic objects (YAML values,
    # records, state): frequent cyclic collections only re-walk them (35-40 % of a large
    # plan, per benchmarks/README.md). Collect rarely instead of never.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    # Library notices (retries, a lock left behind) reach the user as plain lines.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    logging.addLevelName(logging.WARNING, "warning")
