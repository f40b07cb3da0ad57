"""Stages (Steg) of the sales pipeline; list order is the pipeline order."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import Field, PlainValidator, Strict, WithJsonSchema

from crmconf.errors import Problem
from crmconf.model.choices import not_one_of
from crmconf.model.kind import Kind, Migration, NamedItem, Record, Reference
from crmconf.model.names import WHOLE, Name

StageStatusValue = Literal["open", "open_won", "closed_won", "closed_lost"]

# The product's own labels, with en dash or hyphen, as a user copies them from the UI.
STATUS_LABELS: dict[StageStatusValue, str] = {
    "open": "Öppen",
    "open_won": "Öppen – vunnen",
    "closed_won": "Stängd – vunnen",
    "closed_lost": "Stängd – tappad",
}
# Any case is accepted ("öppen", "Closed_Lost"): the status is a choice, not a spelling.
_STATUSES: dict[str, StageStatusValue] = {}
for _value, _label in STATUS_LABELS.items():
    for _written in (_value, _label, _label.replace("–", "-")):
        _STATUSES[_written.casefold()] = _value


def _status(value: Any) -> Any:
    found = _STATUSES.get(value.casefold()) if isinstance(value, str) else None
    if found is None:
        raise not_one_of(value, get_args(StageStatusValue), tuple(STATUS_LABELS.values()))
    return found


def _any_case(text: str) -> str:
    """A JSON Schema pattern (ECMA 262, which has no flag for it) matching text in any case."""
    # No value or label holds a character special to regular expressions.
    return "".join(f"[{c.lower()}{c.upper()}]" if c.lower() != c.upper() else c for c in text)


StageStatus = Annotated[
    StageStatusValue,
    PlainValidator(_status),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": [*get_args(StageStatusValue), *STATUS_LABELS.values()]},
                {
                    "type": "string",
                    "pattern": "^(" + "|".join(_any_case(text) for text in _STATUSES) + ")$",
                },
            ]
        }
    ),
]
Probability = Annotated[int, Strict(), Field(ge=0, le=100), WHOLE]


class Stage(NamedItem):
    """One step of the sales process: title, probability (%), status, rejection reason."""

    KEY_FIELD: ClassVar[str] = "title"
    SHORT_FORM: ClassVar[bool] = False

    title: Name
    probability: Probability
    status: StageStatus
    rejection_reason: Name | None = None

    def record_fields(self) -> dict[str, Any]:
        return {
            "probability": self.probability,
            "status": self.status,
            "rejection_reason": self.rejection_reason,
        }


def lint_stages(stages: tuple[Record, ...]) -> list[Problem]:
    """Pipelines that are valid but forecast nonsense."""
    warnings: list[Problem] = []
    previous_open: Record | None = None
    for stage in stages:
        status, probability = stage.fields["status"], stage.fields["probability"]
        if status in ("open_won", "closed_won") and probability != 100:
            warnings.append(
                Problem(
                    f"stage {stage.name!r} is won but its probability is {probability} %",
                    stage.location,
                    "a won stage usually has probability 100",
                    "builtin.won-probability",
                )
            )
        if status == "closed_lost" and probability != 0:
            warnings.append(
                Problem(
                    f"stage {stage.name!r} is lost but its probability is {probability} %",
                    stage.location,
                    "a lost stage usually has probability 0",
                    "builtin.lost-probability",
                )
            )
        if status == "closed_lost" and stage.fields["rejection_reason"] is None:
            warnings.append(
                Problem(
                    f"stage {stage.name!r} is lost but names no rejection reason",
                    stage.location,
                    "add rejection_reason so lost deals say why",
                    "builtin.lost-reason",
                )
            )
        if status == "open":
            if previous_open and probability < previous_open.fields["probability"]:
                warnings.append(
                    Problem(
                        f"open stage {stage.name!r} ({probability} %) comes after "
                        f"{previous_open.name!r} ({previous_open.fields['probability']} %)",
                        stage.location,
                        "probability usually grows along the pipeline",
                        "builtin.open-order",
                    )
                )
            previous_open = stage
    if not any(stage.fields["status"] == "open" for stage in stages):
        warnings.append(
            Problem(
                "the pipeline has no open stage",
                stages[0].location if stages else None,
                "new opportunities need an open stage to start in",
                "builtin.open-stage",
            )
        )
    return warnings


STAGES = Kind(
    name="sales.stages",
    singular="stage",
    ui_path="Administration – Inställningar – CRM – Säljmöjligheter – Steg",
    item_model=Stage,
    ordered=True,
    references=(Reference(field="rejection_reason", kind="sales.rejection_reasons"),),
    lint=lint_stages,
    labels={
        "title": "Titel",
        "probability": "Sannolikhet",
        "status": "Status",
        "rejection_reason": "Avvisning",
    },
    value_labels={"status": STATUS_LABELS},
    units={"probability": "%"},
    migration=Migration("move_opportunities_to"),
)
