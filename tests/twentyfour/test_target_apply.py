"""Applying plans to 24SevenOffice: one SaveCategories, customer moves in batches, partial failures."""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crmconf import api
from crmconf.config.reading import load
from crmconf.errors import PlanError, TargetError
from crmconf.kinds import CATEGORIES, INDUSTRIES
from crmconf.planning.changes import Action, Change, Plan
from crmconf.targets.twentyfour import credentials_from_env
from crmconf.targets.twentyfour.target import TwentyFourTarget
from crmconf.testing import FakeData, FakeTwentyFour

from .support import FAST_BACKOFF

BATCH = 4
RETAIL, CONSULTING = 2, 1
LEAD, PROSPECT = 1, 2

Config = Callable[[str], Path]


@pytest.fixture
def config(tmp_path: Path) -> Config:
    def write(text: str) -> Path:
        path = tmp_path / "config.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def fake() -> Iterator[FakeTwentyFour]:
    data = FakeData.sample()
    data.companies.clear()
    for index in range(10):
        data.add_company(f"Retail {index} AS", industry_id=RETAIL, status=LEAD)
    for index in range(3):
        data.add_company(f"Consulting {index} AS", industry_id=CONSULTING, status=PROSPECT)
    with FakeTwentyFour(data=data) as server:
        yield server


@pytest.fixture
def target(fake: FakeTwentyFour) -> Iterator[TwentyFourTarget]:
    credentials = credentials_from_env(fake.env())
    with TwentyFourTarget(
        "24so://", credentials, timeout=2.0, retries=1, backoff=FAST_BACKOFF, batch_size=BATCH
    ) as opened:
        assert isinstance(opened, TwentyFourTarget)
        yield opened


MERGE_RETAIL = """\
    crmconf: 1
    categories:
      - {name: VIP, show_on: both}
      - {name: Partner, show_on: both}
      - {name: Newsletter, show_on: contact}
      - {name: Reseller, show_on: customer}
      - {name: Members, show_on: contact}
    industries: [Consulting, Manufacturing, Public sector]
    removed:
      industries: [{name: Retail, move_customers_to: Consulting}]
    """


def _industries(fake: FakeTwentyFour) -> list[int | None]:
    return sorted(c.industry_id or 0 for c in fake.data.companies.values())


def test_category_creates_and_updates_are_one_request(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    plan = api.plan(load(config(MERGE_RETAIL)), target)
    fake.reset_calls()

    api.apply(plan, target)

    assert fake.count("SaveCategories") == 1
    shown = {c.name: (c.show_company, c.show_contact) for c in fake.data.categories.values()}
    assert shown["Partner"] == (True, True)
    assert shown["Reseller"] == (True, False)
    assert shown["Members"] == (False, True)


def test_customers_move_in_batches_then_the_delete_stays_manual(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    path = config(MERGE_RETAIL)
    plan = api.plan(load(path), target)
    (delete,) = plan.manual_steps
    assert delete.usage is not None and delete.usage.customers == 10
    assert "once 'crmconf apply' has moved what uses 'Retail' to 'Consulting'" in str(
        delete.manual_step
    )
    fake.reset_calls()

    api.apply(plan, target)

    moved = 10
    assert fake.count("GetCompanies") == 1  # one light listing serves the check and the move
    assert fake.count("SaveCompanies") == math.ceil(moved / BATCH)
    assert _industries(fake) == [CONSULTING] * 13
    assert RETAIL in fake.data.industries  # deleting it is the person's step
    after = api.plan(load(path), target)
    assert [(c.kind, c.action, c.manual) for c in after.changes] == [
        (INDUSTRIES.name, Action.DELETE, True)
    ]
    del fake.data.industries[RETAIL]  # the manual step
    assert api.plan(load(path), target).empty


def test_industry_and_status_moves_share_one_update_per_company(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    plan = api.plan(
        load(
            config(
                """\
                crmconf: 1
                industries: [Consulting, Manufacturing, Public sector]
                status_types: [Prospect, Customer, Former customer]
                removed:
                  industries: [{name: Retail, move_customers_to: Consulting}]
                  status_types: [{name: Lead, move_customers_to: Prospect}]
                """
            )
        ),
        target,
    )
    fake.reset_calls()

    api.apply(plan, target)

    assert fake.count("SaveCompanies") == math.ceil(10 / BATCH)  # the same 10 companies
    assert {(c.industry_id, c.status) for c in fake.data.companies.values()} == {
        (CONSULTING, PROSPECT)
    }


def test_a_move_to_an_industry_that_does_not_exist_yet_changes_nothing(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    path = config(
        """\
        crmconf: 1
        categories: [{name: New, show_on: both}]
        industries: [Consulting, Manufacturing, Public sector, Handel]
        removed:
          industries: [{name: Retail, move_customers_to: Handel}]
        """
    )
    plan = api.plan(load(path), target)
    assert [c.name for c in plan.automatic] == ["New"]

    with pytest.raises(TargetError, match="nothing was applied: industry 'Handel'"):
        api.apply(plan, target)

    assert fake.write_calls() == []
    fake.data.industries[9] = "Handel"  # the manual create, done by a person
    api.apply(api.plan(load(path), target), target)
    assert {c.industry_id for c in fake.data.companies.values()} == {9, CONSULTING}


def test_a_failed_batch_says_what_moved_and_a_rerun_finishes(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    path = config(MERGE_RETAIL)
    retail_ids = sorted(c.id for c in fake.data.companies.values() if c.industry_id == RETAIL)
    failing = retail_ids[BATCH + 1]  # in the second batch
    fake.inject_api_exception("Company is locked by another user", company_id=failing)
    plan = api.plan(load(path), target)

    with pytest.raises(TargetError) as caught:
        api.apply(plan, target)

    message = str(caught.value)
    assert "apply stopped part-way" in message
    assert "done: categories: created 'Reseller', 'Members' and updated 'Partner'" in message
    assert "done: industry 'Retail' → 'Consulting': 7 of 10 customers moved" in message
    assert "not done: industry 'Retail' → 'Consulting': 3 of 10 customers not moved" in message
    assert f"company {failing}: Validation: Company is locked" in message
    assert sum(c.industry_id == RETAIL for c in fake.data.companies.values()) == 3

    again = api.plan(load(path), target)
    assert [(c.kind, c.manual) for c in again.changes] == [(INDUSTRIES.name, True)]
    assert again.changes[0].usage is not None and again.changes[0].usage.customers == 3
    fake.reset_calls()
    api.apply(again, target)
    assert fake.count("SaveCategories") == 0 and fake.count("SaveCompanies") == 1
    assert RETAIL not in {c.industry_id for c in fake.data.companies.values()}


def test_a_lost_answer_is_reported_as_maybe_moved(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    plan = api.plan(load(config(MERGE_RETAIL)), target)
    fake.inject_http_error(503, count=None, operation="SaveCompanies")

    with pytest.raises(TargetError) as caught:
        api.apply(plan, target)

    message = str(caught.value)
    assert "10 of 10 customers not moved (4 of them were in the failed request" in message
    assert "gave up after 2 attempts" in message  # retries=1: bounded


def test_a_stale_plan_is_refused_before_any_write(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    plan = api.plan(load(config(MERGE_RETAIL)), target)
    fake.data.add_company("Late AS", industry_id=RETAIL)

    with pytest.raises(PlanError, match="stale plan"):
        api.apply(plan, target)

    assert fake.write_calls() == []


def test_changes_the_api_cannot_make_are_refused_before_any_write(
    fake: FakeTwentyFour, target: TwentyFourTarget
) -> None:
    create = Change(CATEGORIES.name, Action.CREATE, None, {"name": "A", "show_on": "both"})
    delete = Change(INDUSTRIES.name, Action.DELETE, {"name": "Retail"}, None, id=RETAIL)

    with pytest.raises(PlanError, match="cannot delete industries 'Retail'"):
        target.apply(Plan((create, delete)))

    assert fake.calls == []


def test_a_plan_of_only_manual_steps_without_moves_calls_nothing(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    plan = api.plan(
        load(
            config(
                "crmconf: 1\nindustries: [Consulting, Retail, Manufacturing, Public sector, New]\n"
            )
        ),
        target,
    )
    assert plan.manual_steps and not plan.automatic
    fake.reset_calls()

    api.apply(plan, target)

    assert fake.calls == []


def test_a_failed_save_categories_is_one_line_and_moves_nothing(
    fake: FakeTwentyFour, target: TwentyFourTarget, config: Config
) -> None:
    plan = api.plan(load(config(MERGE_RETAIL)), target)
    fake.inject_fault("Name is too long", operation="SaveCategories")

    with pytest.raises(TargetError) as caught:
        api.apply(plan, target)

    message = str(caught.value)
    assert message.startswith("apply failed at its first write (run plan to see if it saved any)")
    assert "SaveCategories: the service returned a SOAP fault" in message
    assert "\n" not in message
    assert fake.count("SaveCompanies") == 0
