"""`--env NAME` and `--vars FILE`, shared by validate, plan, apply and drift."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    from crmconf.errors import Problem

P = ParamSpec("P")
R = TypeVar("R")

BASE_LABEL = "base"


def environment_options(command: Callable[P, R]) -> Callable[P, R]:
    """--env and --vars: which environment of a layout, and values for ${NAME}."""
    options = (
        click.option(
            "--env",
            "env",
            metavar="NAME",
            help="Environment of a directory split into base/ and envs/NAME/: "
            "the base with that overlay on top.",
        ),
        click.option(
            "--vars",
            "vars_file",
            type=click.Path(path_type=Path, dir_okay=False),
            metavar="FILE",
            help="YAML file of NAME: value for ${NAME} in the configuration; "
            "its values win over environment variables.",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command


def config_variables(vars_file: Path | None) -> Mapping[str, str]:
    """What ${NAME} is replaced with: the environment, overridden by the --vars file."""
    if vars_file is None:
        return os.environ
    from crmconf.config.variables import load_variables

    return {**os.environ, **load_variables(vars_file)}


def validate_environments(path: Path, strict: bool, vars_file: Path | None) -> list[Problem]:
    """Validate the base of a layout alone and with each environment's overlay.

    Each problem is tagged with the environments it occurs in, once however many share it
    (an error in a base file shows in all of them).
    """
    from crmconf.config.environments import environment_names
    from crmconf.config.reading import load
    from crmconf.errors import ConfigError

    variables = config_variables(vars_file)
    errors: dict[tuple[str, str, str | None], list[str]] = {}
    warnings: dict[tuple[str, str, str | None], list[str]] = {}
    first: dict[tuple[str, str, str | None], Problem] = {}
    names = environment_names(path)
    for name in (None, *names):
        label = BASE_LABEL if name is None else name
        try:
            config = load(path, env=name, variables=variables)
        except ConfigError as error:
            _collect(error.problems, label, errors, first)
            continue
        _collect(config.warnings, label, errors if strict else warnings, first)
        if strict and config.warnings:
            continue
        items = sum(len(records) for records in config.sections.values())
        click.echo(
            f"{path} [{label}]: valid ({items} items in {len(config.sections)} managed kinds)."
        )
    for key, labels in warnings.items():
        click.echo(f"warning: {_tagged(first[key], labels)}", err=True)
    return [_tagged(first[key], labels) for key, labels in errors.items()]


def _collect(
    problems: list[Problem] | tuple[Problem, ...],
    label: str,
    into: dict[tuple[str, str, str | None], list[str]],
    first: dict[tuple[str, str, str | None], Problem],
) -> None:
    for problem in problems:
        key = (str(problem.location), problem.message, problem.hint)
        first.setdefault(key, problem)
        into.setdefault(key, []).append(label)


def _tagged(problem: Problem, labels: list[str]) -> Problem:
    from crmconf.errors import Problem

    return Problem(f"[{', '.join(labels)}] {problem.message}", problem.location, problem.hint)
