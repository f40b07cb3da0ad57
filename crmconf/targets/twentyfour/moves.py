"""Moving customers off an industry or status before a person deletes it ("Flytta kunder").

The API cannot delete industries or statuses, but SaveCompanies can re-point the
companies using one. Every company's industry and status comes from one light
GetCompanies request; the companies to change are then saved in batches. There
is no transaction: when a batch fails, earlier batches stay saved, and the
outcome says exactly which customers moved and which did not. Moving is
idempotent, so running apply again finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from crmconf.errors import TargetError
from crmconf.kinds import INDUSTRIES

from .failures import TwentyFourApiError
from .models import Company, CompanyUpdate


@dataclass(frozen=True)
class Move:
    """Customers of one industry or status go to another of the same kind."""

    kind: str
    """``industries`` or ``status_types``."""
    source: str
    source_id: int
    destination: str
    destination_id: int

    def __str__(self) -> str:
        what = "industry" if self.kind == INDUSTRIES.name else "status"
        return f"{what} '{self.source}' → '{self.destination}'"


@dataclass
class MoveOutcome:
    """Which companies each move concerns, and what happened to them."""

    wanted: dict[Move, set[int]]
    saved: set[int] = field(default_factory=set)
    uncertain: set[int] = field(default_factory=set)
    """Sent in a request that failed without saying what it saved."""

    def done(self) -> list[str]:
        lines = []
        for move, ids in self.wanted.items():
            moved = len(ids & self.saved)
            if moved:
                lines.append(f"{move}: {moved} of {len(ids)} customers moved")
        return lines

    def not_done(self) -> list[str]:
        lines = []
        for move, ids in self.wanted.items():
            left = ids - self.saved
            if not left:
                continue
            line = f"{move}: {len(left)} of {len(ids)} customers not moved"
            unknown = len(left & self.uncertain)
            if unknown:
                line += f" ({unknown} of them were in the failed request and may have moved)"
            lines.append(line)
        return lines


class MoveFailed(TargetError):
    """A batch failed part-way; `outcome` tells what moved."""

    def __init__(self, cause: TargetError, outcome: MoveOutcome) -> None:
        super().__init__(str(cause))
        self.outcome = outcome


def company_updates(
    moves: Sequence[Move], companies: Iterable[Company]
) -> tuple[list[CompanyUpdate], MoveOutcome]:
    """One update per company that uses a moved industry or status (both in one update)."""
    industries = {m.source_id: m for m in moves if m.kind == INDUSTRIES.name}
    statuses = {m.source_id: m for m in moves if m.kind != INDUSTRIES.name}
    outcome = MoveOutcome({move: set() for move in moves})
    updates = []
    for company in companies:
        industry = industries.get(company.industry_id) if company.industry_id is not None else None
        status = statuses.get(company.status) if company.status is not None else None
        if industry is None and status is None:
            continue
        updates.append(
            CompanyUpdate(
                company.id,
                industry_id=industry.destination_id if industry else None,
                status=status.destination_id if status else None,
            )
        )
        for move in (industry, status):
            if move is not None:
                outcome.wanted[move].add(company.id)
    return updates, outcome


def move_customers(
    updates: Sequence[CompanyUpdate],
    outcome: MoveOutcome,
    save: Callable[[list[CompanyUpdate]], object],
    batch_size: int,
) -> MoveOutcome:
    """Save `updates` in batches; raise MoveFailed saying what moved if a batch fails."""
    for start in range(0, len(updates), batch_size):
        batch = list(updates[start : start + batch_size])
        try:
            save(batch)
        except TwentyFourApiError as error:
            outcome.saved.update(error.saved_ids)
            raise MoveFailed(error, outcome) from None
        except TargetError as error:
            outcome.uncertain.update(update.id for update in batch)
            raise MoveFailed(error, outcome) from None
        outcome.saved.update(update.id for update in batch)
    return outcome
