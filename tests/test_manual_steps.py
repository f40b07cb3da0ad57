"""Changes a target cannot make become manual steps: the product's UI path, what to click."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from crmconf.config.reading import load
from crmconf.planning.changes import Capability
from crmconf.planning.planner import kinds_to_read, plan
from crmconf.planning.render.json import render_json
from crmconf.planning.render.text import render_text
from crmconf.targets.sandbox.target import SandboxTarget
from tests.conftest import SEED

# What the 24SevenOffice API offers: categories can be created and updated, customers
# moved between industries and statuses; everything else is read-only.
API_LIKE = {
    "categories": frozenset({Capability.CREATE, Capability.UPDATE}),
    "industries": frozenset({Capability.MOVE}),
    "status_types": frozenset({Capability.MOVE}),
}


def test_changes_outside_the_capabilities_are_manual_steps_in_plan_order(
    demo_target: SandboxTarget,
) -> None:
    config = load(SEED)
    result = plan(config, demo_target.read(kinds_to_read(config)), API_LIKE)

    automatic = {(c.kind, c.name) for c in result.automatic}
    assert automatic == {("categories", "Partner"), ("categories", "VIP")}
    steps = [c.manual_step for c in result.manual_steps]
    assert len(steps) == len(result.changes) - 2
    assert (
        "Administration – Inställningar – CRM – Säljmöjligheter – Steg: open "
        "'Steg 3 Andra besök', set Sannolikhet from 50 % to 65 %; save." in steps
    )
    assert (
        "Administration – Inställningar – CRM – Säljmöjligheter – Steg: click Ny, enter "
        "Titel: Steg 5 Förlorad kund; Sannolikhet: 0 %; Status: Stängd – tappad; "
        "Avvisning: Gått till konkurrent; place it at position 5; save." in steps
    )
    assert (
        "Administration – Inställningar – CRM – Branscher: open 'Data/IT', "
        "rename it to 'IT och telekom'; save." in steps
    )
    # A reason is created by hand before the stage that names it.
    reason = next(i for i, c in enumerate(result.manual_steps) if c.name == "Gått till konkurrent")
    stage = next(i for i, c in enumerate(result.manual_steps) if c.name == "Steg 5 Förlorad kund")
    assert reason < stage
    restore = next(s for s in steps if s and "Återställa kunder" in s)
    assert "support must first activate" in restore


def test_renderers_carry_the_manual_checklist(demo_target: SandboxTarget) -> None:
    config = load(SEED)
    result = plan(config, demo_target.read(kinds_to_read(config)), API_LIKE)

    text = render_text(result)
    assert "(manual step)" in text
    assert f"Manual steps ({len(result.manual_steps)}), in this order" in text
    document = json.loads(render_json(result))
    assert document["manual_steps"] == [c.manual_step for c in result.manual_steps]
    for change in document["changes"]:
        by_api = change["kind"] == "categories" and change["action"] != "delete"
        assert ("manual_step" in change) != by_api, change


def test_a_data_move_the_target_can_make_is_not_a_manual_step(
    demo_target: SandboxTarget, write_config: Callable[..., Path]
) -> None:
    path = write_config(
        "crmconf: 1\nindustries: [Bygg]\nremoved:\n"
        "  industries: [{name: Data/IT, move_customers_to: Bygg}]\n"
    )
    config = load(path)
    state = demo_target.read(kinds_to_read(config))

    moved = plan(config, state, API_LIKE).manual_steps
    by_hand = plan(config, state, {"industries": frozenset()}).manual_steps

    data_it = next(c for c in moved if c.name == "Data/IT")
    assert "once 'crmconf apply' has moved what uses 'Data/IT' to 'Bygg'" in (
        data_it.manual_step or ""
    )
    data_it = next(c for c in by_hand if c.name == "Data/IT")
    assert "first move what uses 'Data/IT' to 'Bygg'" in (data_it.manual_step or "")
    assert "click Flytta kunder" in (data_it.manual_step or "")


def test_the_sandbox_can_make_every_change(demo_target: SandboxTarget) -> None:
    config = load(SEED)
    result = plan(
        config, demo_target.read(kinds_to_read(config)), demo_target.capabilities().changes()
    )
    assert result.manual_steps == ()
