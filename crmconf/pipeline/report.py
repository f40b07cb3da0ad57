"""A forecast as a text table or as a JSON document; renderers only read it."""

from __future__ import annotations

import json
from typing import Any

from crmconf.pipeline.forecast import Breakdown, Figures, Forecast, ForecastRow, money
from crmconf.planning.render.tables import aligned

FORMAT_VERSION = 1

_HEADINGS = {
    Breakdown.STAGE: "Stage",
    Breakdown.SALESPERSON: "Salesperson",
    Breakdown.GROUP: "Sales group",
}
NO_SALES_GROUP = "(in no sales group)"


def render_forecast_text(forecast: Forecast) -> str:
    """One row per stage, salesperson or group, then the total."""
    by_stage = forecast.by is Breakdown.STAGE
    header = [_HEADINGS[forecast.by], "Count", "Amount", "Weighted"]
    if by_stage:
        header.insert(1, "Probability")
    table = [header]
    for row in forecast.rows:
        cells = [_label(row), *_numbers(row.figures)]
        if by_stage:
            cells.insert(1, f"{row.probability} %")
        table.append(cells)
    table.append(["Total", *([""] if by_stage else []), *_numbers(forecast.total)])
    numeric = [False, *([True] if by_stage else []), True, True, True]
    lines = [
        "Weighted pipeline: open opportunities (on customers and projects), "
        "amount × stage probability.",
        "",
        *aligned(table, numeric),
    ]
    if forecast.by is Breakdown.GROUP:
        lines += [
            "",
            "A sales group includes the members of its subgroups; the total counts every "
            "opportunity once.",
        ]
    return "\n".join(lines) + "\n"


def _label(row: ForecastRow) -> str:
    return NO_SALES_GROUP if row.label is None else row.label


def _numbers(figures: Figures) -> list[str]:
    return [str(figures.count), money(figures.amount), money(figures.weighted)]


def forecast_document(forecast: Forecast) -> dict[str, Any]:
    """Amounts are strings with two decimals, so no reader turns them into floats."""
    rows = []
    for row in forecast.rows:
        data: dict[str, Any] = {forecast.by.value: row.label}
        if row.probability is not None:
            data["probability"] = row.probability
        rows.append(data | _figures(row.figures))
    return {
        "format_version": FORMAT_VERSION,
        "by": forecast.by.value,
        "rows": rows,
        "total": _figures(forecast.total),
    }


def _figures(figures: Figures) -> dict[str, Any]:
    return {
        "count": figures.count,
        "amount": money(figures.amount),
        "weighted": money(figures.weighted),
    }


def render_forecast_json(forecast: Forecast) -> str:
    return json.dumps(forecast_document(forecast), ensure_ascii=False, indent=2) + "\n"
