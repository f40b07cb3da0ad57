"""Creating, resetting and filling the sandbox."""

from __future__ import annotations

from sqlalchemy import func, select

from crmconf.errors import TargetError
from crmconf.targets.sandbox import schema
from crmconf.targets.sandbox.demo import load_demo
from crmconf.targets.sandbox.target import SandboxTarget


def init_sandbox(url: str, demo: bool = False, reset: bool = False) -> str:
    """Create the sandbox at url; returns its printable URL."""
    target = SandboxTarget.open(url)
    try:
        with target.engine.begin() as connection:
            if reset:
                schema.metadata.drop_all(connection)
                schema.metadata.create_all(connection)
                connection.execute(
                    schema.meta.insert().values(
                        key="schema_version", value=str(schema.SCHEMA_VERSION)
                    )
                )
            if demo:
                if connection.scalar(select(func.count()).select_from(schema.users)):
                    raise TargetError(
                        f"{target.url} already holds data; pass --reset to start it anew"
                    )
                load_demo(connection)
        return target.url
    finally:
        target.close()
