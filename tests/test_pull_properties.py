"""Properties of `crmconf pull` over generated configurations and CRM states, on real
SQLite sandboxes (tests/strategies.py): whatever a configuration says, pulling makes it
say what the target holds — but for what pull leaves alone, and says so."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmconf import api
from crmconf.config.fmt import format_text
from crmconf.kinds import ALL_KINDS
from crmconf.model.names import identity
from tests.strategies import configurations, profile, sandbox_copy, shuffled, to_yaml
from tests.test_properties import _start

pytestmark = pytest.mark.sqlite_only(reason="every example starts from a copy of the SQLite file")


@profile(slice_examples=20)
@given(data=st.data())
def test_pull_leaves_only_what_it_said_it_left_alone(demo_url: str, data: st.DataObject) -> None:
    """After pulling every proposal, a second pull proposes nothing, and every difference
    still planned is one of the items the first pull said it left alone."""
    with sandbox_copy(demo_url) as (folder, target):
        _start(data, folder, target)
        state = target.read(ALL_KINDS)
        document = data.draw(configurations(state, keep_used=False), label="configuration")
        document = shuffled(document, random.Random(data.draw(st.integers(0, 2**16))))
        text = to_yaml(document)
        path = folder / "crmconf.yaml"
        if data.draw(st.booleans(), label="formatted (flow lists, sorted)"):
            text = format_text(str(path), text)
        path.write_text(text, encoding="utf-8")

        pulled = api.pull(api.load(path), target)
        api.write_pull(pulled, pulled.proposals)

        again = api.pull(api.load(path), target)
        assert again.proposals == (), [p.describe() for p in again.proposals]
        noted = {(note.kind, identity(note.name)) for note in pulled.found.left_alone if note.name}
        noted_kinds = {note.kind for note in pulled.found.left_alone if note.name is None}
        remaining = [
            change
            for change in again.plan.changes
            if (change.kind, identity(change.name)) not in noted
            and change.kind not in noted_kinds
            and not _follows_a_noted_rename(change, pulled.found.left_alone)
        ]
        assert remaining == [], (
            [(c.kind, c.name, c.action, c.changed) for c in remaining],
            [p.describe() for p in pulled.proposals],
            [str(note) for note in pulled.found.left_alone],
            text,
        )


def _follows_a_noted_rename(change: Any, notes: Any) -> bool:
    """A stage naming a rejection reason whose rename pull left alone reads the old name."""
    return change.kind == "sales.stages" and set(change.changed) <= {"rejection_reason"}
