"""Where each tenant's run stands: a live table on a terminal, one plain line per tenant
otherwise (CI logs). Written to stderr, so stdout holds only the plans and the summary."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from crmconf.tenants import Tenant


class TenantProgress:
    """Tenants waiting, under way and done; safe to update from worker threads."""

    def __init__(self, tenants: Sequence[Tenant], doing: str, terminal: bool | None = None) -> None:
        self.names = [tenant.name for tenant in tenants]
        self.doing = doing
        self.terminal = sys.stderr.isatty() if terminal is None else terminal
        self.status: dict[str, str] = dict.fromkeys(self.names, "waiting")
        self.running: set[str] = set()
        self.done = 0
        self.lock = threading.Lock()
        self.live: Any = None
        self.spinners: dict[str, Any] = {}

    def __enter__(self) -> TenantProgress:
        if self.terminal:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(
                console=Console(stderr=True),
                get_renderable=self._table,
                refresh_per_second=8,
                transient=True,
            )
            self.live.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.stop()

    def started(self, tenant: Tenant) -> None:
        with self.lock:
            self.running.add(tenant.name)
            self.status[tenant.name] = self.doing
            if self.terminal:
                from rich.spinner import Spinner

                self.spinners[tenant.name] = Spinner("dots")  # one each, so it turns

    def finished(self, tenant: Tenant, status: str) -> None:
        with self.lock:
            self.running.discard(tenant.name)
            self.status[tenant.name] = status
            self.done += 1
            if not self.terminal:
                click.echo(f"[{self.done}/{len(self.names)}] {tenant.name}: {status}", err=True)

    def _table(self) -> Any:
        from rich.table import Table

        table = Table.grid(padding=(0, 2))
        with self.lock:
            for name in self.names:
                status = self.status[name]
                marker = self.spinners[name] if name in self.running else " "
                table.add_row(marker, name, status)
            table.add_row("", "", f"{self.done} of {len(self.names)} done")
        return table
