"""The `crmconf` command: a thin click layer over the Python API.

Heavy libraries (SQLAlchemy, deepdiff, jsonschema, pydantic) are imported inside
the commands that need them, so `crmconf --help` and `--version` start fast.
One module per group of commands; importing it registers them on `main`.
"""

from crmconf.cli import (
    config_commands,
    customers_commands,
    fmt_command,
    forecast_command,
    history_commands,
    plan_commands,
    review_commands,
    sandbox_commands,
    twentyfour_commands,
)
from crmconf.cli.app import main

__all__ = [
    "config_commands",
    "customers_commands",
    "fmt_command",
    "forecast_command",
    "history_commands",
    "main",
    "plan_commands",
    "review_commands",
    "sandbox_commands",
    "twentyfour_commands",
]
