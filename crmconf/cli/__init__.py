"""The `crmconf` command: a thin click layer over the Python API.

One module per group of commands, imported only when one of its commands runs
(`crmconf.cli.app.COMMANDS`); heavy libraries (SQLAlchemy, deepdiff, jsonschema,
pydantic) are imported inside the commands that need them. So `crmconf --help`
and `--version` load click and this package's `app` only.
"""

from crmconf.cli.app import main

__all__ = ["main"]
