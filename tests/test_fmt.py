"""`crmconf fmt`: canonical order and layout, comments kept, meaning never changed.

The fixtures in tests/fmt_fixtures are real files written out of order on purpose:
comments on items that move, flow and block style, anchors, block scalars, a BOM.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import stat
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import Result
from hypothesis import given
from hypothesis import strategies as st

from crmconf.config.fmt import format_file, format_text
from crmconf.config.reading import load
from crmconf.config.yaml_source import needs_quotes
from crmconf.errors import ConfigError
from crmconf.kinds import ALL_KINDS, KINDS_BY_NAME
from crmconf.model.state import State
from tests.conftest import ROOT, SEED
from tests.strategies import as_written, configurations, profile, shuffled

Cli = Callable[..., Result]
FIXTURES = sorted((ROOT / "tests" / "fmt_fixtures").glob("*.yaml"))
EXAMPLES = [SEED, *FIXTURES]


def _copy(source: Path, directory: Path) -> Path:
    target = directory / source.name
    shutil.copyfile(source, target)
    return target


def _formatted(path: Path) -> str:
    return format_file(path).text


def _meaning(path: Path) -> dict[str, Any]:
    """What a file configures: records without locations; unordered kinds as sets."""
    config = load(path)

    def records(sections: Any) -> dict[str, list[Any]]:
        found = {}
        for name, kind_records in sections.items():
            plain = [(r.name, dict(r.fields), r.renamed_from) for r in kind_records]
            found[name] = plain if KINDS_BY_NAME[name].ordered else sorted(plain, key=repr)
        return found

    return {
        "sections": records(config.sections),
        "removals": records(config.removals),
        "limits": config.limits,
    }


def _comments(text: str) -> Counter[str]:
    """Comment lines and end-of-line comments, by a plain reading of the text."""
    found: Counter[str] = Counter()
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            found[stripped] += 1
        elif "  #" in line or " # " in line:
            found[line[line.index(" #") :].strip()] += 1
    return found


# Every example: idempotent, same meaning, same comments


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_formatting_twice_changes_nothing_more(example: Path, tmp_path: Path) -> None:
    once = _formatted(example)
    path = tmp_path / example.name
    path.write_text(once, encoding="utf-8")

    assert _formatted(path) == once
    assert not format_file(path).changed


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_formatting_never_changes_what_a_file_configures(example: Path, tmp_path: Path) -> None:
    path = tmp_path / example.name
    path.write_text(_formatted(example), encoding="utf-8")

    assert _meaning(path) == _meaning(example)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_formatting_keeps_every_comment(example: Path) -> None:
    original = example.read_text(encoding="utf-8-sig")

    assert _comments(_formatted(example)) == _comments(original)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda path: path.name)
def test_formatted_sections_follow_the_registry(example: Path) -> None:
    document = yaml.safe_load(_formatted(example))
    expected = ["crmconf"]
    for kind in ALL_KINDS:
        head = kind.section[0]
        if head not in expected:
            expected.append(head)
    expected += ["safety", "removed"]

    written = list(document)
    assert written == [key for key in expected if key in document]


class _PlainDumper(yaml.SafeDumper):
    """Writes strings plain where every YAML reader agrees, else double-quoted: one line
    each, so that the comments added in between stay comments."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    unsafe = needs_quotes(value) or not value.isprintable()
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"' if unsafe else None)


_PlainDumper.add_representer(str, _represent)


def _with_comments(text: str, rng: random.Random) -> str:
    """Comment lines between lines and comments ending lines, at random."""
    lines: list[str] = []
    for number, line in enumerate(text.splitlines()):
        if rng.random() < 0.3:
            lines.append(" " * rng.randint(0, 6) + f"# comment-{number}-above")
        lines.append(line + (f"  # comment-{number}-end" if rng.random() < 0.3 else ""))
    return "\n".join(lines) + "\n"


def _added_comments(text: str) -> Counter[str]:
    return Counter(re.findall(r"# comment-\d+-(?:above|end)", text))


@profile()
@given(data=st.data())
def test_any_configuration_keeps_its_meaning_and_comments(
    data: st.DataObject, tmp_path: Path
) -> None:
    """Generated configurations, shuffled, in flow or block style, with comments anywhere."""
    users = frozenset({"anna@example.com", "erik@example.com"})
    document = data.draw(configurations(State({}, users)), label="configuration")
    rng = data.draw(st.randoms(use_true_random=False))
    flow = data.draw(st.sampled_from([None, False]), label="default_flow_style")
    text = yaml.dump(
        as_written(shuffled(document, rng)),
        Dumper=_PlainDumper,
        allow_unicode=True,
        sort_keys=False,
        width=10**9,
        default_flow_style=flow,
    )
    original = tmp_path / "original.yaml"
    original.write_text(_with_comments(text, rng), encoding="utf-8")
    formatted = tmp_path / "formatted.yaml"

    formatted.write_text(_formatted(original), encoding="utf-8")

    assert _meaning(formatted) == _meaning(original)
    added = _added_comments(original.read_text(encoding="utf-8"))
    assert _added_comments(formatted.read_text(encoding="utf-8")) == added
    assert not format_file(formatted).changed


def _example_configuration_files() -> list[Path]:
    """Every configuration and overlay file under examples/: not the CI files, the tenants'
    project file or a --vars file, which are not configurations."""
    examples = ROOT / "examples"
    return sorted(
        path
        for path in examples.rglob("*.y*ml")
        if path.relative_to(examples).parts[0] != "ci"
        and path.name not in ("crmconf.yaml", "crmconf.yml")
        and path.parent.name != "vars"
    )


def test_every_example_is_already_formatted(cli: Cli) -> None:
    files = _example_configuration_files()
    assert {"seed.yaml", "24sevenoffice.yaml", "overlay.yaml"} <= {path.name for path in files}

    result = cli("fmt", "--check", *files)

    assert result.exit_code == 0, result.output
    assert result.stderr == f"0 files would be reformatted, {len(files)} files left unchanged.\n"


def test_a_fresh_export_is_already_formatted(cli: Cli, demo_url: str, tmp_path: Path) -> None:
    exported = tmp_path / "exported.yaml"
    assert cli("export", "--target", demo_url, "-o", exported).exit_code == 0

    result = cli("fmt", "--check", exported)

    assert result.exit_code == 0, exported.read_text(encoding="utf-8")


def test_a_layout_directory_formats_its_base_and_overlay_files(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "crm/base").mkdir(parents=True)
    (tmp_path / "crm/envs/test").mkdir(parents=True)
    (tmp_path / "crm/base/settings.yaml").write_text(
        "crmconf: 1\nindustries: [Turism, Bygg]\ngroups: [{name: Admin, type: standard}]\n",
        encoding="utf-8",
    )
    overlay = tmp_path / "crm/envs/test/overlay.yaml"
    overlay.write_text(
        "crmconf: 1\ndrop: {groups: [Admin]}  # no admins in test\nindustries: [Handel, Bygg]\n",
        encoding="utf-8",
    )

    result = cli("fmt", tmp_path / "crm")

    assert result.exit_code == 0, result.output
    assert overlay.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [Bygg, Handel]\ndrop: {groups: [Admin]}  # no admins in test\n"
    )
    assert (tmp_path / "crm/base/settings.yaml").read_text(encoding="utf-8") == (
        "crmconf: 1\ngroups: [{name: Admin, type: standard}]\nindustries: [Bygg, Turism]\n"
    )
    assert load(tmp_path / "crm", env="test").sections["industries"]


def test_an_invalid_overlay_file_is_reported_and_left_as_it_is(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "crm/base").mkdir(parents=True)
    (tmp_path / "crm/envs/test").mkdir(parents=True)
    (tmp_path / "crm/base/settings.yaml").write_text("crmconf: 1\n", encoding="utf-8")
    overlay = tmp_path / "crm/envs/test/overlay.yaml"
    text = "crmconf: 1\nindustries: [Bygg]\ndrop: {industrie: [Turism]}\n"
    overlay.write_text(text, encoding="utf-8")

    result = cli("fmt", overlay)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"error: {overlay}:3:7: not a valid overlay file: ")
    assert "'industrie'" in result.stderr
    assert overlay.read_text(encoding="utf-8") == text


# What canonical means


def test_comments_travel_with_the_items_they_describe() -> None:
    source = ROOT / "tests" / "fmt_fixtures" / "moving_comments.yaml"

    assert _formatted(source) == (
        "crmconf: 1\n"
        "# before the groups\n"
        "groups:\n"
        "  - name: Root\n"
        "    type: standard\n"
        "    children:\n"
        "      # Achild is small\n"
        "      - {name: Achild, type: sales}   # flow child\n"
        "      - name: Zchild\n"
        "        type: sales\n"
        "# Industries we sell to\n"
        "industries:\n"
        "  # about alpha\n"
        "  - Alpha  # end of Alpha's line\n"
        "  # about beta\n"
        "  - Beta\n"
        "  - name: Mid\n"
        "    renamed_from: [Old]   # end of the renamed_from line\n"
        "  # Zeta's own comment\n"
        "  - Zeta   # end of Zeta's line\n"
        "# before sales\n"
        "sales:\n"
        "  types: [A, B]  # end of the types line\n"
        "# the last line\n"
    )


def test_unordered_kinds_are_sorted_by_name_ignoring_case() -> None:
    text = format_text(
        "config.yaml",
        "crmconf: 1\n"
        "industries: [bygg, Data, Anläggning]\n"
        "status_types:\n  - zeta\n  - Alfa\n"
        "categories:\n"
        "  - {name: vip, show_on: customer}\n"
        "  - {name: Partner, show_on: both}\n",
    )

    assert text == (
        "crmconf: 1\n"
        "categories:\n"
        "  - {name: Partner, show_on: both}\n"
        "  - {name: vip, show_on: customer}\n"
        "industries: [Anläggning, bygg, Data]\n"
        "status_types:\n  - Alfa\n  - zeta\n"
    )


def test_stages_and_option_lists_keep_their_order() -> None:
    source = (
        "crmconf: 1\n"
        "customer_info:\n"
        "  sources: [Zz, Aa]\n"
        "  products: [Lön, Ekonomi]\n"
        "  contact_origins: [Webb, Mässa]\n"
        "sales:\n"
        "  stages:\n"
        "    - {title: Z first, probability: 10, status: open}\n"
        "    - {title: A second, probability: 20, status: open}\n"
    )

    assert format_text("config.yaml", source) == (
        "crmconf: 1\n"
        "customer_info:\n"
        "  contact_origins: [Webb, Mässa]\n"
        "  products: [Lön, Ekonomi]\n"
        "  sources: [Zz, Aa]\n"
        "sales:\n"
        "  stages:\n"
        "    - {title: Z first, probability: 10, status: open}\n"
        "    - {title: A second, probability: 20, status: open}\n"
    )


def test_keys_of_an_item_follow_its_model_name_first() -> None:
    source = (
        "removed:\n"
        "  industries: [{move_customers_to: Bygg, name: Handel}]\n"
        "industries: [Bygg]\n"
        "groups:\n"
        "  - children: [{type: sales, name: Child}]\n"
        "    members: [a@example.com]\n"
        "    description: Text\n"
        "    type: standard\n"
        "    renamed_from: [Old]\n"
        "    name: Parent\n"
        "sales:\n"
        "  stages:\n"
        "    - {rejection_reason: Pris, status: closed_lost, probability: 0, title: Lost}\n"
        "crmconf: 1\n"
    )

    assert format_text("config.yaml", source) == (
        "crmconf: 1\n"
        "groups:\n"
        "  - name: Parent\n"
        "    renamed_from: [Old]\n"
        "    type: standard\n"
        "    description: Text\n"
        "    members: [a@example.com]\n"
        "    children: [{name: Child, type: sales}]\n"
        "industries: [Bygg]\n"
        "sales:\n"
        "  stages:\n"
        "    - {title: Lost, probability: 0, status: closed_lost, rejection_reason: Pris}\n"
        "removed:\n"
        "  industries: [{name: Handel, move_customers_to: Bygg}]\n"
    )


def test_group_children_are_sorted_at_every_level() -> None:
    source = (
        "crmconf: 1\n"
        "groups:\n"
        "  - name: B\n"
        "    type: standard\n"
        "    children:\n"
        "      - name: B2\n"
        "        type: standard\n"
        "        children: [{name: Y, type: sales}, {name: X, type: sales}]\n"
        "      - {name: B1, type: standard}\n"
        "  - {name: A, type: standard}\n"
    )

    assert format_text("config.yaml", source) == (
        "crmconf: 1\n"
        "groups:\n"
        "  - {name: A, type: standard}\n"
        "  - name: B\n"
        "    type: standard\n"
        "    children:\n"
        "      - {name: B1, type: standard}\n"
        "      - name: B2\n"
        "        type: standard\n"
        "        children: [{name: X, type: sales}, {name: Y, type: sales}]\n"
    )


def test_layout_two_spaces_no_wrapping_final_newline_no_bom() -> None:
    long_name = "Ett mycket långt branschnamn som inte ryms på en rad " + "x" * 40
    source = (
        "\ufeffcrmconf: 1\n"
        "industries:\n"
        "-     Öl\n"
        f"-     {long_name}\n"
        "groups:\n"
        "    -   name: Försäljning\n"
        "        type: sales\n"
        "        members:\n"
        "        -   anna@example.com"
    )

    text = format_text("config.yaml", source)

    assert text == (
        "crmconf: 1\n"
        "groups:\n"
        "  - name: Försäljning\n"
        "    type: sales\n"
        "    members:\n"
        "      - anna@example.com\n"
        "industries:\n"
        f"  - {long_name}\n"
        "  - Öl\n"
    )


def test_quotes_are_kept_where_yaml_readers_would_disagree() -> None:
    source = "crmconf: 1\nindustries: ['yes', \"No\", '017', Bygg]\n"

    assert format_text("config.yaml", source) == (
        "crmconf: 1\nindustries: ['017', Bygg, \"No\", 'yes']\n"
    )


def test_comments_between_brackets_turn_the_list_into_block_style() -> None:
    source = "crmconf: 1\nindustries: [\n  Zeta,   # z\n  Alpha,  # a\n]\n"

    assert format_text("config.yaml", source) == (
        "crmconf: 1\nindustries:\n  - Alpha # a\n  - Zeta  # z\n"
    )


def test_a_comment_ruamel_yaml_cannot_keep_is_refused_with_its_place() -> None:
    source = (
        "crmconf: 1\ncategories:\n  - {name: VIP,   # very important\n     show_on: customer}\n"
    )

    with pytest.raises(ConfigError) as raised:
        format_text("config.yaml", source)

    assert [str(problem).splitlines()[0] for problem in raised.value.problems] == [
        "config.yaml:3:19: cannot format without losing the comment '# very important'; "
        "the file was left as it is"
    ]


def test_a_list_an_alias_repeats_keeps_its_order() -> None:
    source = (
        "crmconf: 1\n"
        "industries: &names [Zeta, Alfa]\n"
        "status_types: [Zeta, Alfa]\n"
        "sales:\n"
        "  types: *names\n"
    )

    text = format_text("config.yaml", source)

    assert text == (
        "crmconf: 1\n"
        "industries: &names [Zeta, Alfa]\n"
        "status_types: [Alfa, Zeta]\n"
        "sales:\n"
        "  types: *names\n"
    )
    assert format_text("config.yaml", text) == text


def test_a_mapping_after_a_commented_flow_item_stays_valid() -> None:
    # ruamel.yaml 0.19 alone joins `name: Z` and `type: sales` into one invalid line here.
    source = (
        "crmconf: 1\n"
        "groups:   # the tree\n"
        "  - {name: A, type: sales}  # flow\n"
        "  - name: Z\n"
        "    type: sales\n"
    )

    assert format_text("config.yaml", source) == source


def test_a_comment_above_a_flow_item_that_ends_with_a_comment_is_kept() -> None:
    # ruamel.yaml 0.19 alone drops `# about A` when reading this.
    source = "crmconf: 1\nindustries:\n  - {name: B}\n  # about A\n  - {name: A}  # A\n"

    assert format_text("config.yaml", source) == (
        "crmconf: 1\nindustries:\n  # about A\n  - {name: A}  # A\n  - {name: B}\n"
    )


def test_comments_outside_the_document_markers_are_kept() -> None:
    source = "# yaml-language-server: $schema=crmconf.schema.json\n---\ncrmconf: 1\n...\n# done\n"

    assert format_text("config.yaml", source) == (
        "# yaml-language-server: $schema=crmconf.schema.json\ncrmconf: 1\n# done\n"
    )


def test_line_endings_become_newlines(tmp_path: Path) -> None:
    path = tmp_path / "crlf.yaml"
    path.write_bytes(b"crmconf: 1\r\nindustries:\r\n  - B   # b\r\n  # a\r\n  - A\r\n")

    assert _formatted(path) == "crmconf: 1\nindustries:\n  # a\n  - A\n  - B   # b\n"


def test_an_invalid_file_is_refused_with_the_loaders_location() -> None:
    with pytest.raises(ConfigError) as raised:
        format_text("bad.yaml", "crmconf: 1\nindustries: [Bygg, No]\n")

    assert str(raised.value.problems[0]).startswith("bad.yaml:2:20: 'No' is read as a boolean")


def test_rules_across_files_are_left_to_validate(tmp_path: Path) -> None:
    """A directory's file may name what another file holds; each is formatted on its own."""
    kept = tmp_path / "1-industries.yaml"
    kept.write_text("crmconf: 1\nindustries: [Handel]\n", encoding="utf-8")
    removal = tmp_path / "2-removed.yaml"
    removal.write_text(
        "crmconf: 1\nremoved:\n  industries: [{move_customers_to: Handel, name: Bygg}]\n",
        encoding="utf-8",
    )

    assert _formatted(removal).endswith("[{name: Bygg, move_customers_to: Handel}]\n")
    assert load(tmp_path).removals["industries"][0].name == "Bygg"


# The command


def test_check_lists_what_would_change_and_writes_nothing(cli: Cli, tmp_path: Path) -> None:
    messy = _copy(FIXTURES[0], tmp_path)
    tidy = tmp_path / "tidy.yaml"
    tidy.write_text(_formatted(SEED), encoding="utf-8")
    before = messy.read_bytes()

    result = cli("fmt", "--check", messy, tidy)

    assert result.exit_code == 1, result.output
    assert result.stdout == f"would reformat {messy}\n"
    assert "1 file would be reformatted, 1 file left unchanged." in result.stderr
    assert messy.read_bytes() == before


def test_check_passes_when_everything_is_formatted(cli: Cli, tmp_path: Path) -> None:
    tidy = tmp_path / "tidy.yaml"
    tidy.write_text(_formatted(SEED), encoding="utf-8")

    result = cli("fmt", "--check", tidy)

    assert result.exit_code == 0, result.output
    assert result.stdout == ""


def test_fmt_rewrites_files_and_says_which(cli: Cli, tmp_path: Path) -> None:
    files = [_copy(fixture, tmp_path) for fixture in FIXTURES]
    expected = {path: _formatted(path) for path in files}

    first = cli("fmt", *files)
    second = cli("fmt", *files)

    assert first.exit_code == 0, first.output
    assert sorted(first.stdout.splitlines()) == sorted(f"reformatted {path}" for path in files)
    for path, text in expected.items():
        assert path.read_text(encoding="utf-8") == text
    assert second.exit_code == 0, second.output
    assert second.stdout == ""
    assert f"0 files reformatted, {len(files)} files left unchanged." in second.stderr


def test_fmt_formats_every_yaml_file_of_a_directory(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("crmconf: 1\nindustries: [B, A]\n", encoding="utf-8")
    (tmp_path / "b.yml").write_text("crmconf: 1\nstatus_types: [B, A]\n", encoding="utf-8")
    notes = tmp_path / "notes.txt"
    notes.write_text("industries: [B, A]\n", encoding="utf-8")

    result = cli("fmt", tmp_path)

    assert result.exit_code == 0, result.output
    assert (tmp_path / "a.yaml").read_text(encoding="utf-8") == "crmconf: 1\nindustries: [A, B]\n"
    assert (tmp_path / "b.yml").read_text(encoding="utf-8") == "crmconf: 1\nstatus_types: [A, B]\n"
    assert notes.read_text(encoding="utf-8") == "industries: [B, A]\n"


def test_an_invalid_file_is_reported_and_left_alone(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "crmconf: 1\nindustries: [B, A]\nsales:\n  stages: [{title: S}]\n", encoding="utf-8"
    )
    good = tmp_path / "good.yaml"
    good.write_text("crmconf: 1\nindustries: [B, A]\n", encoding="utf-8")
    before = bad.read_bytes()

    result = cli("fmt", bad, good)

    assert result.exit_code == 1, result.output
    assert f"error: {bad}:4:12: sales.stages[0].probability: required key" in result.stderr
    assert "Traceback" not in result.output
    assert bad.read_bytes() == before
    assert good.read_text(encoding="utf-8") == "crmconf: 1\nindustries: [A, B]\n"
    assert "1 file reformatted, 0 files left unchanged, 1 file not formatted." in result.stderr


def test_a_missing_path_is_reported(cli: Cli, tmp_path: Path) -> None:
    result = cli("fmt", tmp_path / "missing.yaml")

    assert result.exit_code == 1
    assert f"error: {tmp_path / 'missing.yaml'}: no such file or directory" in result.stderr


def test_a_rewritten_file_keeps_its_permissions_and_symlinks(cli: Cli, tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("crmconf: 1\nindustries: [B, A]\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "link.yaml"
    os.symlink(real.name, link)

    result = cli("fmt", link)

    assert result.exit_code == 0, result.output
    assert link.is_symlink()
    assert real.read_text(encoding="utf-8") == "crmconf: 1\nindustries: [A, B]\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_bidi_control_or_invisible_character_stays_an_escape() -> None:
    # ruamel.yaml writes every printable character as itself, so fmt turned the escape
    # "\u202e" into the control that reorders the line in an editor or a diff.
    source = (
        "crmconf: 1\n"
        'industries: ["By\\u200bgg", Turism\u2060]\n'
        "groups:\n"
        '  - {name: G, type: sales, description: "Säljare \\u202eevil\\u2066"}\n'
    )

    formatted = format_text("config.yaml", source)

    assert not {"\u202e", "\u2066", "\u200b", "\u2060"} & set(formatted), formatted
    assert yaml.safe_load(formatted) == yaml.safe_load(source)
