"""forecast: the weighted sales pipeline, by stage, salesperson or sales group."""

from __future__ import annotations

import click

from crmconf.cli.common import reports_errors, target_option


@click.command()
@target_option
@click.option(
    "--by",
    type=click.Choice(["stage", "salesperson", "group"]),
    default="stage",
    show_default=True,
    help="One row per stage, per owner (login) or per sales group (with its subgroups).",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: the rows and total, amounts as exact decimal strings.",
)
@reports_errors
def forecast(target: str | None, by: str, output_format: str) -> None:
    """Forecast sales: open opportunities' amounts weighted by their stage's probability.

    Counts opportunities on customers and on projects whose stage is open or
    open – won; closed stages are left out. Never writes.
    """
    from crmconf.api import forecast as forecast_target
    from crmconf.pipeline.report import render_forecast_json, render_forecast_text
    from crmconf.targets import open_target, target_url

    with open_target(target_url(target)) as crm:
        result = forecast_target(crm, by)
    if output_format == "json":
        click.echo(render_forecast_json(result), nl=False)
    else:
        click.echo(render_forecast_text(result), nl=False)
