"""One command for every tenant at once, a bounded number at a time, each on its own.

A tenant loads its own configuration and opens its own target; whatever goes wrong
with it — an invalid configuration, an unreachable CRM, a refused plan, even a bug —
becomes that tenant's outcome and never stops, or touches, another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Generic, TypeVar

from crmconf.config.environments import require_environment
from crmconf.errors import TargetError
from crmconf.model.configuration import Configuration
from crmconf.targets import open_target
from crmconf.targets.base import Target
from crmconf.tenants.project import CREDENTIALS_24SO, Tenant, is_24so

R = TypeVar("R")


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """What running a command for one tenant gave: its result, or the error that stopped it."""

    tenant: Tenant
    result: R | None = None
    error: Exception | None = None


def load_tenant_config(tenant: Tenant, environ: Mapping[str, str]) -> Configuration:
    """The tenant's configuration in its environment, `${NAME}` from its vars file (which wins)
    and `environ`."""
    from crmconf.api import load

    require_environment(tenant.config, tenant.environment)
    return load(
        tenant.config,
        env=tenant.environment,
        variables=environ,
        vars_file=tenant.variables_file,
        users=tenant.users,
        users_of=f"tenant {tenant.name!r}",
        rules=tenant.rules,
        rules_of=f"tenant {tenant.name!r}",
    )


def open_tenant_target(tenant: Tenant, environ: Mapping[str, str]) -> Target:
    """The tenant's CRM, opened with the credentials its variables hold."""
    values: dict[str, str] = {}
    missing = []
    for setting, variable in tenant.credentials.items():
        value = environ.get(variable, "")
        if value:
            values[setting] = value
        else:
            missing.append(f"{variable} ({setting})")
    if missing:
        raise TargetError(
            f"tenant {tenant.name!r}: credentials missing: set the environment variable "
            + ", ".join(missing)
        )
    if is_24so(tenant.target):
        from crmconf.targets.twentyfour.target import TwentyFourTarget

        settings = dict(environ)
        if values:  # this tenant's login only, never another's left in the environment
            for name in CREDENTIALS_24SO.values():
                settings.pop(name, None)
            settings.update({CREDENTIALS_24SO[key]: value for key, value in values.items()})
        if tenant.organization_number is not None:
            from crmconf.targets.twentyfour.pinning import ENV_ORGANIZATION_NUMBER

            settings[ENV_ORGANIZATION_NUMBER] = tenant.organization_number
        return TwentyFourTarget.open(tenant.target, settings)
    url = tenant.target
    if values:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(url).set(
                username=values.get("username"), password=values.get("password")
            )
            url = parsed.render_as_string(hide_password=False)
        except ArgumentError:
            raise TargetError(f"tenant {tenant.name!r}: not a database URL") from None
    return open_target(url)


def run_all(
    tenants: Sequence[Tenant],
    work: Callable[[Tenant], R],
    *,
    parallel: int,
    started: Callable[[Tenant], None] | None = None,
    finished: Callable[[Outcome[R]], None] | None = None,
) -> list[Outcome[R]]:
    """`work` for every tenant, at most `parallel` at a time; outcomes in the tenants' order.

    `started` and `finished` are called from worker threads, for a progress display.
    """

    def guarded(tenant: Tenant) -> Outcome[R]:
        if started is not None:
            started(tenant)
        try:
            outcome = Outcome(tenant, work(tenant))
        except Exception as error:  # one tenant's failure, whatever it is, stays its own
            outcome = Outcome(tenant, error=error)
        if finished is not None:
            finished(outcome)
        return outcome

    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="crmconf-tenant")
    try:
        futures = [pool.submit(guarded, tenant) for tenant in tenants]
        return [future.result() for future in futures]
    finally:  # on Ctrl-C: start no other tenant, let those under way finish cleanly
        pool.shutdown(wait=True, cancel_futures=True)
