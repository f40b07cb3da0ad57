"""User aliases: a shared configuration names users by short aliases (`members: [anna]`),
and each tenant maps them to its own users (`users: {anna: 101}` in crmconf.yaml).

Group members are per-tenant: contact ids on 24SevenOffice, logins on the sandbox, so a
base shared by many client companies cannot name them. With a map, every member of a
kind's users field is an alias, replaced by the user it maps to; an alias the map lacks
is an error at the item, naming whose map it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from crmconf.errors import ConfigError, Problem
from crmconf.kinds import KINDS_BY_NAME
from crmconf.model.configuration import Configuration
from crmconf.model.kind import Record


def resolve_users(config: Configuration, users: Mapping[str, str], owner: str) -> Configuration:
    """The configuration with every alias in a users field replaced by its user."""
    problems: list[Problem] = []
    sections: dict[str, tuple[Record, ...]] = {}
    for name, records in config.sections.items():
        field = KINDS_BY_NAME[name].users_field if name in KINDS_BY_NAME else None
        if field is None:
            sections[name] = records
            continue
        resolved = []
        for record in records:
            aliases = list(record.fields.get(field) or ())
            unknown = [alias for alias in aliases if alias not in users]
            if unknown:
                problems.append(
                    Problem(
                        f"{KINDS_BY_NAME[name].singular} {record.name!r}: {owner} maps no user "
                        f"alias {', '.join(repr(alias) for alias in unknown)}",
                        record.location,
                        f"add it under users: of {owner} in crmconf.yaml ('crmconf 24so users "
                        "--format aliases' prints a starting map), or correct the alias",
                    )
                )
                continue
            members = sorted({users[alias] for alias in aliases})
            resolved.append(replace(record, fields={**record.fields, field: members}))
        sections[name] = tuple(resolved)
    if problems:
        raise ConfigError(problems)
    return replace(config, sections=sections)
