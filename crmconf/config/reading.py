"""Reading a configuration: one file, a directory of them, or an environment of a layout
(`base/` + `envs/NAME/`). The one entry the rest of crmconf loads configurations by."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from crmconf.config.environments import load_environment
from crmconf.config.files import is_layout
from crmconf.config.loader import load_files
from crmconf.model.collector import paused
from crmconf.model.configuration import Configuration, Source


@paused()
def load(
    path: str | os.PathLike[str],
    *,
    env: str | None = None,
    variables: Mapping[str, str] | None = None,
) -> Configuration:
    """Load, validate and merge a configuration file or a directory of them.

    A directory holding `base/` is an environment layout: `env` names the overlay
    `envs/NAME/` merged onto the base (None: the base alone). `${NAME}` in values is
    replaced from `variables`, by default the process environment.
    """
    root = Path(path)
    values = os.environ if variables is None else variables
    source = Source(os.path.abspath(root), env)
    if env is not None or is_layout(root):
        return replace(load_environment(root, env, values), source=source)
    return load_files(root, values, source)
