"""crmconf — CRM settings as code.

    import crmconf
    config = crmconf.load("examples/seed.yaml")
    with crmconf.open_target("sqlite:///.crmconf/sandbox.db") as target:
        plan = crmconf.plan(config, target)
        crmconf.apply(plan, target)

Names are imported on first use so that `crmconf --help` starts fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["__version__", "apply", "export", "load", "open_target", "plan"]

if TYPE_CHECKING:
    from crmconf.api import apply, export, load, open_target, plan

    __version__: str


def __getattr__(name: str) -> Any:
    if name == "__version__":  # the installed package's metadata: one version, pyproject's
        from importlib.metadata import version

        return version("crmconf")
    if name in __all__:
        from crmconf import api

        return getattr(api, name)
    raise AttributeError(f"module 'crmconf' has no attribute {name!r}")
