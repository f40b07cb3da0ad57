"""`crmconf fmt`: configuration files in canonical order and layout, comments kept."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from crmconf.cli.common import reports_errors, write_atomically


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--check", is_flag=True, help="Change nothing; exit 1 if a file would change.")
@reports_errors
def fmt(paths: tuple[Path, ...], check: bool) -> None:
    """Format configuration files, or the *.yaml / *.yml files of directories.

    Sections and keys in canonical order, unordered lists sorted by name, 2-space
    indentation; comments are kept. A file that is invalid on its own is reported
    and left as it is. A directory split into base/ and envs/NAME/: every base and
    overlay file.
    """
    from crmconf.config.files import overlay_of
    from crmconf.config.fmt import format_file
    from crmconf.errors import ConfigError, CrmconfError, Problem

    problems: list[Problem] = []
    files: dict[Path, Path] = {}
    for path in paths:
        try:
            files.update((file.resolve(), file) for file in _files_of(path))
        except ConfigError as error:
            problems.extend(error.problems)
    changed = invalid = 0
    for target, file in files.items():
        try:
            formatted = format_file(file, overlay=overlay_of(file) is not None)
        except ConfigError as error:
            problems.extend(error.problems)
            invalid += 1
            continue
        except CrmconfError as error:
            problems.append(Problem(str(error)))
            invalid += 1
            continue
        if not formatted.changed:
            continue
        changed += 1
        if check:
            click.echo(f"would reformat {file}")
        else:
            write_atomically(target, formatted.text)  # the resolved path: a symlink stays one
            click.echo(f"reformatted {file}")
    for problem in problems:
        click.echo(f"error: {problem}", err=True)
    summary = f"{_files(changed)} {'would be ' if check else ''}reformatted, "
    summary += f"{_files(len(files) - changed - invalid)} left unchanged"
    click.echo(summary + (f", {_files(invalid)} not formatted." if invalid else "."), err=True)
    if problems or (check and changed):
        sys.exit(1)


def _files_of(path: Path) -> list[Path]:
    """A path's configuration files; a directory split into base/ and envs/NAME/: its base
    and overlay files."""
    from crmconf.config.environments import environment_names
    from crmconf.config.files import BASE, ENVIRONMENTS, configuration_files, is_layout

    if not is_layout(path):
        return configuration_files(path)
    folders = [path / BASE, *(path / ENVIRONMENTS / name for name in environment_names(path))]
    return [file for folder in folders for file in configuration_files(folder)]


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"
