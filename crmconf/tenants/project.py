"""The project file, `crmconf.yaml`: the tenants — client companies — one repository manages.

```yaml
crmconf: 1
tenants:
  - name: acme
    target: 24so://
    config: companies/acme        # relative to this file
    env: prod                     # an environment of that directory (optional)
    vars: companies/acme.vars.yaml  # values for ${NAME} (optional)
    credentials:                  # the NAMES of environment variables, never secrets
      application_id: ACME_24SO_APPLICATION_ID
      username: ACME_24SO_USERNAME
      password: ACME_24SO_PASSWORD
    organization_number: "912345678"  # 24so:// only: apply refuses any other client
    rules: {disable: [builtin.open-order]}  # rule ids this tenant switches off (optional)
rules:                            # the firm's own rules, for every tenant (optional)
  check:
    - {id: lost-reason, message: lost deals say why,
       require_stage: {status: closed_lost, with_rejection_reason: true}}
```

The file is meant to be committed, so it must not hold a secret: a credential is the
name of the environment variable holding it, a target URL holding a password is
refused, and so is any password-like key outside `credentials:`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from crmconf.config.files import MAX_FILE_BYTES
from crmconf.config.firm_rules import RuleId, RuleSet, RulesSection, rule_set
from crmconf.config.messages import explained
from crmconf.config.yaml_source import SourceDocument, parse, read_text
from crmconf.errors import ConfigError, Location, Problem
from crmconf.model.names import Name, identity, whole_number

PROJECT_FILE = "crmconf.yaml"
FORMAT_VERSION = 1

CREDENTIALS_24SO = {
    "application_id": "CRMCONF_24SO_APPLICATION_ID",
    "username": "CRMCONF_24SO_USERNAME",
    "password": "CRMCONF_24SO_PASSWORD",
    "password_file": "CRMCONF_24SO_PASSWORD_FILE",
    "identity_id": "CRMCONF_24SO_IDENTITY_ID",
}
"""A 24so:// tenant's credentials, and the variable each stands for in a single run."""
CREDENTIALS_SQL = ("username", "password")
"""A database tenant's credentials, put into its URL when it is opened."""

_ENVIRONMENT_VARIABLE = r"^[A-Z_][A-Z0-9_]*$"
_SECRET_KEY = re.compile(
    r"pass(word|wd|phrase)?|pwd|secret|token|api[_-]?key|private[_-]?key|auth|credential",
    re.IGNORECASE,
)
_PASSWORD_IN_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/@?#]*:[^/@?#]*@")

VariableName = Annotated[
    str, StringConstraints(strict=True, pattern=_ENVIRONMENT_VARIABLE, max_length=200)
]
Text = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=4000)]
UserId = Annotated[
    str,
    BeforeValidator(lambda value: str(value) if type(value) is int else value),
    StringConstraints(strict=True, min_length=1, max_length=254),
]


class TenantRules(BaseModel):
    """The ids of rules one tenant switches off."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    disable: tuple[RuleId, ...] = ()


class TenantEntry(BaseModel):
    """One client company: where its CRM is and which configuration it gets."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    target: Text
    """The CRM's URL, as for --target; a password never goes here (see credentials)."""
    config: Text
    """The configuration file or directory, relative to the project file."""
    env: Name | None = None
    """The environment (envs/NAME/) of a configuration directory split into base/ and envs/."""
    vars: Text | None = None
    """A file of values for ${NAME} in the configuration, relative to the project file."""
    credentials: dict[str, VariableName] = Field(default_factory=dict)
    """Setting (username, password, …) → the NAME of the environment variable holding it."""
    organization_number: Text | None = None
    """24so:// only: the client's organisation number; apply refuses any other client."""
    users: dict[Name, UserId] | Text | None = None
    """User aliases the configuration's members are written as → this tenant's users (a
    contact id on 24SevenOffice, a login on the sandbox); or a YAML file of them."""
    rules: TenantRules | None = None
    """The rules (the firm's, the configuration's or built-in) this tenant switches off."""


class ProjectDocument(BaseModel):
    """A crmconf project file: the tenants one repository manages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    crmconf: whole_number(FORMAT_VERSION, FORMAT_VERSION)  # type: ignore[valid-type]
    standard: Text | None = None
    """The firm's standard configuration, relative to the project file: what `crmconf
    compare` compares every tenant with."""
    tenants: tuple[TenantEntry, ...]
    waves: tuple[tuple[Name, ...] | Literal["rest"], ...] | None = None
    """The order `apply --all --waves` rolls out in: lists of tenant names, and at most one
    `rest` standing for every tenant no other wave names."""
    rules: RulesSection | None = None
    """The firm's own rules, checked in every tenant's configuration."""


@dataclass(frozen=True)
class Tenant:
    """A client company's CRM and the configuration it gets."""

    name: str
    target: str
    config: Path
    environment: str | None = None
    variables_file: Path | None = None
    credentials: Mapping[str, str] = field(default_factory=dict)
    """Setting (username, password, …) → the NAME of the environment variable holding it."""
    location: Location | None = field(default=None, compare=False)
    organization_number: str | None = None
    """24so:// only: the organisation number the client must have (see twentyfour.pinning)."""
    users: Mapping[str, str] | None = None
    """User alias → user, when the tenant maps them (crmconf.config.aliases)."""
    rules: RuleSet = field(default_factory=RuleSet, compare=False)
    """The project's rules and the ids switched off for this tenant (the project's and its own)."""


@dataclass(frozen=True)
class Project:
    file: Path
    tenants: tuple[Tenant, ...]
    standard: Path | None = None
    """The firm's standard configuration (`standard:`), if the project names one."""
    waves: tuple[tuple[Tenant, ...], ...] | None = None
    """The roll-out's waves (`waves:`), `rest` expanded; None when the file names none."""


def load_project(path: Path) -> Project:
    """Read and check a project file; every problem is reported with file:line:col."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ConfigError(
            [
                Problem(
                    f"cannot read the project file: {error.strerror}",
                    Location(str(path)),
                    f"write a {PROJECT_FILE} naming the tenants, or pass --project FILE",
                )
            ]
        ) from None
    source = parse(str(path), read_text(str(path), data))
    secrets = _secret_keys(source, source.value, ())
    if secrets:
        raise ConfigError(secrets)
    try:
        document = ProjectDocument.model_validate(source.value)
    except ValidationError as error:
        raise ConfigError(
            [_problem(source, detail) for detail in _in_the_file(source, error)]
        ) from None
    folder = path.parent
    problems: list[Problem] = []
    if not document.tenants:
        problems.append(
            Problem("no tenants", source.location(("tenants",)), "list at least one tenant")
        )
    tenants: list[Tenant] = []
    seen: dict[str, Location] = {}
    firm_rules = rule_set(document.rules, source, ("rules",))
    for index, entry in enumerate(document.tenants):
        where = source.location(("tenants", index))
        problems.extend(_entry_problems(source, index, entry))
        if identity(entry.name) in seen:
            problems.append(
                Problem(
                    f"tenant {entry.name!r} is named twice; also at {seen[identity(entry.name)]}",
                    source.location(("tenants", index, "name")),
                    "give each tenant its own name",
                )
            )
        seen.setdefault(identity(entry.name), where)
        tenants.append(
            Tenant(
                entry.name,
                entry.target,
                folder / entry.config,
                entry.env,
                folder / entry.vars if entry.vars is not None else None,
                dict(entry.credentials),
                where,
                entry.organization_number,
                _users(entry, folder, source, index, problems),
                firm_rules + _switched_off(entry, source, index),
            )
        )
    if problems:
        raise ConfigError(problems)
    waves = _waves(source, document, tenants)
    standard = folder / document.standard if document.standard is not None else None
    return Project(path, tuple(tenants), standard, waves)


def _waves(
    source: SourceDocument, document: ProjectDocument, tenants: list[Tenant]
) -> tuple[tuple[Tenant, ...], ...] | None:
    """The waves with `rest` expanded; ConfigError for an unknown or repeated tenant, a
    second `rest`, or tenants no wave names."""
    if document.waves is None:
        return None
    by_key = {identity(tenant.name): tenant for tenant in tenants}
    problems: list[Problem] = []
    named: dict[str, Location] = {}
    rests = [index for index, wave in enumerate(document.waves) if wave == "rest"]
    for index in rests[1:]:
        problems.append(
            Problem(
                "'rest' is given twice; it stands for every tenant no other wave names",
                source.location(("waves", index)),
                "keep one rest wave",
            )
        )
    for index, wave in enumerate(document.waves):
        if wave == "rest":
            continue
        if not wave:
            problems.append(
                Problem("an empty wave", source.location(("waves", index)), "name its tenants")
            )
        for position, name in enumerate(wave):
            where = source.location(("waves", index, position))
            key = identity(name)
            if key not in by_key:
                close = difflib.get_close_matches(name, [t.name for t in tenants], n=1)
                guess = f"did you mean {close[0]!r}? " if close else ""
                problems.append(
                    Problem(
                        f"wave {index + 1} names tenant {name!r}, which is not in tenants:",
                        where,
                        guess + "name tenants listed under tenants:",
                    )
                )
            elif key in named:
                problems.append(
                    Problem(
                        f"tenant {name!r} is in two waves; also at {named[key]}",
                        where,
                        "roll each tenant out in one wave",
                    )
                )
            else:
                named[key] = where
    left = [tenant for key, tenant in by_key.items() if key not in named]
    if left and not rests:
        problems.append(
            Problem(
                "the waves miss tenants: " + ", ".join(tenant.name for tenant in left),
                source.location(("waves",)),
                "add them to a wave, or add a last wave 'rest' for every tenant not named",
            )
        )
    if problems:
        raise ConfigError(problems)
    return tuple(
        tuple(left) if wave == "rest" else tuple(by_key[identity(name)] for name in wave)
        for wave in document.waves
        if wave != "rest" or left
    )


def _users(
    entry: TenantEntry, folder: Path, source: SourceDocument, index: int, problems: list[Problem]
) -> dict[str, str] | None:
    """A tenant's user aliases, from crmconf.yaml or the YAML file it names."""
    if entry.users is None or isinstance(entry.users, dict):
        return entry.users
    path = folder / entry.users
    where = source.location(("tenants", index, "users"))
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        mapping = parse(str(path), read_text(str(path), data)).value
    except OSError as error:
        problems.append(Problem(f"cannot read the users file {path}: {error.strerror}", where))
        return None
    except ConfigError as error:
        problems.extend(error.problems)
        return None
    if not isinstance(mapping, dict) or not all(
        isinstance(alias, str) and type(user) in (str, int) for alias, user in mapping.items()
    ):
        problems.append(
            Problem(
                f"{path}: a users file maps aliases to users, one 'alias: user' per line",
                where,
                "write e.g. 'anna: 101' (a contact id) or 'anna: anna@example.com' (a login)",
            )
        )
        return None
    return {alias: str(user) for alias, user in mapping.items()}


def _switched_off(entry: TenantEntry, source: SourceDocument, index: int) -> RuleSet:
    if entry.rules is None:
        return RuleSet()
    where = ("tenants", index, "rules", "disable")
    return RuleSet(
        off=tuple(
            (rule_id, source.location((*where, i))) for i, rule_id in enumerate(entry.rules.disable)
        )
    )


def is_24so(target: str) -> bool:
    return target.split(":", 1)[0].lower() == "24so"


def _entry_problems(source: SourceDocument, index: int, entry: TenantEntry) -> list[Problem]:
    problems = []
    if _PASSWORD_IN_URL.match(entry.target):
        problems.append(
            Problem(
                f"tenant {entry.name!r}: the target URL holds a password",
                source.location(("tenants", index, "target")),
                "remove it from the URL and name the environment variable holding it: "
                "credentials: {password: VARIABLE_NAME}",
            )
        )
    if entry.organization_number is not None and not is_24so(entry.target):
        problems.append(
            Problem(
                f"tenant {entry.name!r}: organization_number pins a 24SevenOffice client",
                source.location(("tenants", index, "organization_number")),
                "remove it, or use a 24so:// target",
            )
        )
    allowed = tuple(CREDENTIALS_24SO) if is_24so(entry.target) else CREDENTIALS_SQL
    for setting in entry.credentials:
        if setting not in allowed:
            problems.append(
                Problem(
                    f"tenant {entry.name!r}: unknown credential {setting!r} for "
                    f"{entry.target.split(':', 1)[0]}: targets",
                    source.key_location(("tenants", index, "credentials", setting)),
                    f"allowed: {', '.join(allowed)}",
                )
            )
    return problems


def _secret_keys(source: SourceDocument, value: Any, path: tuple[str | int, ...]) -> list[Problem]:
    """Password-like keys outside `credentials:` — the file would hold a secret."""
    problems: list[Problem] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "credentials" and len(path) == 2 and path[0] == "tenants":
                continue  # its values are checked to be variable names
            if _SECRET_KEY.search(key):
                problems.append(
                    Problem(
                        f"{key!r} looks like a secret; {PROJECT_FILE} is committed and must "
                        "not hold one",
                        source.key_location((*path, key)),
                        "put the secret in an environment variable and name that variable "
                        "under the tenant's credentials: {password: VARIABLE_NAME}",
                    )
                )
            else:
                problems.extend(_secret_keys(source, item, (*path, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            problems.extend(_secret_keys(source, item, (*path, index)))
    return problems


def _in_the_file(source: SourceDocument, error: ValidationError) -> list[Any]:
    """pydantic's error details, located by their place in the file: a union (`users:`, a
    map or a file) adds its member's tag to the location and reports every member that
    failed; only the member matching what was written is kept."""
    details: list[dict[str, Any]] = []
    for detail in error.errors(include_url=False):
        path: list[str | int] = []
        node: Any = source.value
        for part in detail["loc"]:
            if _holds(node, part):  # else: a union member's tag, no place in the file
                path.append(part)
                node = node[part]
        details.append({**detail, "loc": tuple(path)})
    placed: set[tuple[str | int, ...]] = {detail["loc"] for detail in details}

    def errors_deeper(loc: tuple[str | int, ...]) -> bool:
        return any(other[: len(loc)] == loc != other for other in placed)

    # "Input should be a valid string" for a mapping whose own errors lie deeper
    return [
        detail
        for detail in details
        if not (detail["type"] in ("string_type", "none_required") and errors_deeper(detail["loc"]))
    ]


def _holds(node: Any, part: str | int) -> bool:
    if isinstance(node, list):
        return isinstance(part, int) and 0 <= part < len(node)
    return isinstance(node, dict) and part in node


def _problem(source: SourceDocument, detail: Any) -> Problem:
    path: tuple[str | int, ...] = tuple(detail["loc"])
    dotted = ".".join(str(part) for part in path)
    if detail["type"] == "extra_forbidden":
        parent = ".".join(str(part) for part in path[:-1]) or "the file"
        return Problem(
            f"unknown key {path[-1]!r} in {parent}",
            source.key_location(path),
            "a tenant has name, target, config, and optionally env, vars and credentials",
        )
    if detail["type"] == "missing":
        if path == ("crmconf",):
            return Problem(
                "missing the format version",
                source.location(path),
                f"add 'crmconf: {FORMAT_VERSION}' at the top of the file",
            )
        return Problem(f"{dotted}: required key {path[-1]!r} is missing", source.location(path))
    if detail["type"] == "string_pattern_mismatch" and "credentials" in path:
        return Problem(
            f"{dotted} must be the NAME of an environment variable (A–Z, 0–9, _), "
            "never the secret itself",
            source.location(path),
            f"e.g. {path[-1]}: ACME_{str(path[-1]).upper()}",
        )
    given = detail.get("input")
    if detail["type"] == "string_type" and isinstance(given, bool | int | float):
        written = source.written.get(path, str(given))
        return Problem(
            f"{dotted}: expected text, but YAML read {written} as "
            + ("a boolean" if isinstance(given, bool) else "a number"),
            source.location(path),
            f'quote it so YAML reads it as text: "{written}"',
        )
    explanation = explained(detail, ProjectDocument, source.written.get(path))
    if explanation is not None:
        return Problem(f"{dotted}: {explanation[0]}", source.location(path), explanation[1])
    return Problem(f"{dotted}: {detail['msg']}", source.location(path))
