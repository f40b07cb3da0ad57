"""`crmconf pull` against awkward CRM contents and awkward files: each test is a defect
found by trying to break pull, through the command, with real sandboxes and files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_pull import Cli, Write, _ok, by_hand


def test_a_name_a_configuration_cannot_hold_is_left_alone_and_the_rest_is_pulled(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n")
    by_hand(
        demo_url,
        "INSERT INTO industries (name) VALUES ('Handel')",
        "INSERT INTO industries (name) VALUES ('Tab\tbar')",
        "INSERT INTO industries (name) VALUES (' ')",
    )

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n"
    )
    assert 'left alone: industry "Tab\\tbar": its name in the CRM' in pulled.output
    assert 'left alone: industry " ": its name in the CRM' in pulled.output
    assert "bug in crmconf" not in pulled.output


@pytest.mark.sqlite_only(reason="PostgreSQL's column refuses a name over 100 characters")
def test_a_name_too_long_for_a_configuration_is_said_to_be_too_long(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n")
    by_hand(demo_url, f"INSERT INTO industries (name) VALUES ('{'x' * 101}')")

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert "not one a configuration can hold (longer than 100 characters)" in pulled.output
    assert "Nothing to pull" in pulled.output


def test_an_item_an_overlay_drops_is_left_alone_not_added_to_the_base(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    base = tmp_path / "crm" / "base" / "settings.yaml"
    prod = tmp_path / "crm" / "envs" / "prod" / "settings.yaml"
    base.parent.mkdir(parents=True)
    prod.parent.mkdir(parents=True)
    base.write_text("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n", encoding="utf-8")
    prod.write_text("crmconf: 1\ndrop:\n  industries: [Handel]\n", encoding="utf-8")
    by_hand(demo_url, "INSERT INTO industries (name) VALUES ('Handel')")
    before = base.read_bytes(), prod.read_bytes()

    pulled = _ok(cli("pull", tmp_path / "crm", "--env", "prod", "--target", demo_url))

    assert f'left alone: industry "Handel": {prod}:3:16 drops it (drop:)' in pulled.output
    assert "Nothing to pull" in pulled.output
    assert (base.read_bytes(), prod.read_bytes()) == before


GROUPS = """\
crmconf: 1
groups:
  - name: Försäljning
    type: sales
    description: Säljare
    members:
      - anna@example.com   # lead
      - maria@example.com  # part time
"""


def test_a_block_list_keeps_each_items_comment_on_its_item(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(GROUPS)
    _ok(cli("apply", config, "--target", demo_url, "--yes", "--allow-mass-change"))
    by_hand(
        demo_url,
        "DELETE FROM group_members WHERE user_id = (SELECT id FROM users WHERE login = "
        "'maria@example.com')",
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM crm_groups g, "
        "users u WHERE g.name = 'Försäljning' AND u.login = 'erik@example.com'",
        "UPDATE crm_groups SET name = 'Sälj' WHERE name = 'Försäljning'",
    )

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == GROUPS.replace(
        "  - name: Försäljning\n", "  - name: Sälj\n"
    ).replace(
        "      - maria@example.com  # part time\n",
        "      - erik@example.com\n    renamed_from: [Försäljning]\n",
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0

    by_hand(demo_url, "DELETE FROM group_members")
    _ok(cli("pull", config, "--target", demo_url))
    assert "    members: []\n    renamed_from: [Försäljning]\n" in config.read_text(
        encoding="utf-8"
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_every_member_of_a_block_list_replaced_in_a_crlf_file(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "windows.yaml"
    original = (
        "crmconf: 1\r\ngroups:\r\n  - name: Försäljning\r\n    type: sales\r\n"
        "    members:\r\n      - anna@example.com   # lead\r\n    description: Säljare\r\n"
        "  - name: Administration\r\n    type: standard\r\n    members: [lisa@example.com]\r\n"
    )
    config.write_bytes(original.encode("utf-8"))
    by_hand(
        demo_url,
        "DELETE FROM group_members WHERE group_id = (SELECT id FROM crm_groups WHERE "
        "name = 'Försäljning')",
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM crm_groups g, "
        "users u WHERE g.name = 'Försäljning' AND u.login = 'erik@example.com'",
    )

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_bytes().decode("utf-8") == original.replace(
        "anna@example.com   # lead", "erik@example.com"
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_taking_the_last_items_out_of_a_flow_list_on_several_lines_keeps_the_rest_comments(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\nindustries: [\n  Bygg,     # one\n  Data/IT,  # two\n  Turism,   # three\n"
        "  Handel    # four\n]\n"
    )
    by_hand(
        demo_url,
        "INSERT INTO industries (name) VALUES ('Handel')",
        "DELETE FROM industries WHERE name IN ('Turism', 'Handel')",
    )

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [\n  Bygg,     # one\n  Data/IT   # two\n]\n"
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0

    for written, pulled in (
        (
            "[\n  Bygg,  # one\n  Data/IT,  # two\n  Handel]  # end\n",
            "[\n  Bygg,  # one\n  Data/IT   # two\n]  # end\n",
        ),
        (
            "[\n  Bygg,  # one\n  Data/IT,  # two\n  Handel,\n]\n",
            "[\n  Bygg,  # one\n  Data/IT,  # two\n]\n",
        ),
    ):
        config.write_text(f"crmconf: 1\nindustries: {written}", encoding="utf-8")
        _ok(cli("pull", config, "--target", demo_url))
        assert config.read_text(encoding="utf-8") == f"crmconf: 1\nindustries: {pulled}"


def test_a_tab_before_a_comment_is_read_as_the_loader_reads_it(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\nindustries:\n  - Bygg\t# a tab before the comment\n  - Data/IT\n  - Turism\n"
    )
    by_hand(demo_url, "INSERT INTO industries (name) VALUES ('Handel')")

    pulled = cli("pull", config, "--target", demo_url)

    assert pulled.exit_code == 0, pulled.output
    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries:\n  - Bygg\t# a tab before the comment\n  - Data/IT\n"
        "  - Turism\n  - Handel\n"
    )


def test_a_file_whose_layout_pull_cannot_read_is_a_located_error_and_nothing_is_written(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "config.yaml"
    original = "crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n\ufeff"  # a stray BOM at the end
    config.write_bytes(original.encode("utf-8"))
    by_hand(demo_url, "INSERT INTO industries (name) VALUES ('Handel')")

    refused = cli("pull", config, "--target", demo_url)

    assert refused.exit_code == 1
    assert f"{config}:3:1: crmconf pull cannot read this file's layout" in refused.output
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert config.read_bytes() == original.encode("utf-8")


def test_a_file_with_old_mac_line_ends_keeps_them(cli: Cli, demo_url: str, tmp_path: Path) -> None:
    config = tmp_path / "mac.yaml"
    original = "crmconf: 1\rindustries:\r  - Bygg  # b\r  - Data/IT\r  - Turism\rstatus_types: [Aktiv, Ej bearbetad, Vilande]\r"
    config.write_bytes(original.encode("utf-8"))
    by_hand(demo_url, "INSERT INTO industries (name) VALUES ('Handel')")

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_bytes().decode("utf-8") == original.replace(
        "  - Turism\r", "  - Turism\r  - Handel\r"
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


STAGES = """\
crmconf: 1
sales:
  rejection_reasons: [Pris]
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 50, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
    - {title: Förlorad, probability: 0, status: closed_lost, rejection_reason: Pris}
"""


def test_a_rename_rewrites_what_names_the_item_and_each_answer_alone_is_written(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(STAGES)
    by_hand(
        demo_url,
        "INSERT INTO stages (title, probability, status, position, rejection_reason_id) "
        "SELECT 'Förlorad', 5, 'closed_lost', 5, id FROM rejection_reasons WHERE name = 'Pris'",
        "UPDATE rejection_reasons SET name = 'Priset' WHERE name = 'Pris'",
    )

    only_the_rename = _ok(cli("pull", config, "--target", demo_url, "-i", input="y\nn\n"))

    assert "Pulled 1 change" in only_the_rename.output
    assert config.read_text(encoding="utf-8") == STAGES.replace(
        "rejection_reasons: [Pris]", "rejection_reasons: [{name: Priset, renamed_from: [Pris]}]"
    ).replace("rejection_reason: Pris}", "rejection_reason: Priset}")
    planned = cli("plan", config, "--target", demo_url)
    assert "probability: 5 → 0" in planned.output and "rejection_reason" not in planned.output

    config.write_text(STAGES, encoding="utf-8")
    only_the_stage = _ok(cli("pull", config, "--target", demo_url, "-i", input="n\ny\n"))
    assert "Pulled 1 change" in only_the_stage.output
    assert config.read_text(encoding="utf-8") == STAGES.replace(
        "probability: 0,", "probability: 5,"
    )


def test_a_rename_rewrites_where_a_removed_entry_moves_its_data(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\nindustries: [Bygg, Data/IT]\n"
        "removed:\n  industries: [{name: Turism, move_customers_to: Bygg}]\n"
    )
    _ok(cli("apply", config, "--target", demo_url, "--yes"))
    by_hand(demo_url, "UPDATE industries SET name = 'Hus' WHERE name = 'Bygg'")

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [{name: Hus, renamed_from: [Bygg]}, Data/IT]\n"
        "removed:\n  industries: [{name: Turism, move_customers_to: Hus}]\n"
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_names_written_with_a_variables_default_are_found(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\ncategories:\n  - {name: '${PARTNER:-Partner}', show_on: customer}\n"
        "  - {name: Leverantör, show_on: both}\nindustries: ['${BYGG:-Bygg}', Data/IT, Turism]\n"
    )
    by_hand(
        demo_url,
        "UPDATE categories SET show_on = 'both' WHERE name = 'Partner'",
        "UPDATE industries SET name = 'Hus' WHERE name = 'Bygg'",
    )

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert 'left alone: industry "Bygg": its name is written with ${NAME}' in pulled.output
    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\ncategories:\n  - {name: '${PARTNER:-Partner}', show_on: both}\n"
        "  - {name: Leverantör, show_on: both}\nindustries: ['${BYGG:-Bygg}', Data/IT, Turism]\n"
    )


def test_excluding_either_name_of_a_rename_leaves_it_alone(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    original = "crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n"
    config = write_config(original)
    by_hand(demo_url, "UPDATE industries SET name = 'Hus' WHERE name = 'Bygg'")

    for name in ("Bygg", "Hus"):
        pulled = _ok(cli("pull", config, "--target", demo_url, "--exclude", f"industries:{name}"))
        assert "Nothing to pull" in pulled.output
        assert config.read_text(encoding="utf-8") == original

    _ok(cli("pull", config, "--target", demo_url, "--only", "industries:Hus"))
    assert "renamed_from: [Bygg]" in config.read_text(encoding="utf-8")


def test_a_value_a_configuration_cannot_hold_is_left_alone_and_the_rest_is_pulled(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: customer}\n"
        "  - {name: Leverantör, show_on: both}\nindustries: [Bygg, Data/IT, Turism]\n"
    )
    by_hand(  # a value a newer CRM may offer that this crmconf does not know
        demo_url,
        "UPDATE categories SET show_on = 'projects' WHERE name = 'Partner'",
        "INSERT INTO categories (name, show_on) VALUES ('Kund', 'projects')",
        "INSERT INTO industries (name) VALUES ('Handel')",
    )

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: customer}\n"
        "  - {name: Leverantör, show_on: both}\nindustries: [Bygg, Data/IT, Turism, Handel]\n"
    )
    assert (
        'left alone: category "Partner": show_on "projects" in the CRM is not a value a '
        "configuration can hold (Input should be 'customer', 'contact' or 'both')"
    ) in pulled.output
    assert 'left alone: category "Kund": show_on "projects" in the CRM' in pulled.output


def test_files_reached_through_links_are_checked_and_written_as_the_files_they_lead_to(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    folder = tmp_path / "crm"
    (folder / "kept").mkdir(parents=True)
    elsewhere = tmp_path / "shared" / "industries.yaml"
    elsewhere.parent.mkdir()
    categories = folder / "kept" / "categories.yml"  # in a subfolder: not read on its own
    categories.write_text(
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: customer}\n"
        "  - {name: Leverantör, show_on: both}\n",
        encoding="utf-8",
    )
    elsewhere.write_text("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n", encoding="utf-8")
    (folder / "categories.yaml").symlink_to(categories)  # absolute links, one inside
    (folder / "industries.yaml").symlink_to(elsewhere)  # and one outside the directory
    by_hand(
        demo_url,
        "INSERT INTO industries (name) VALUES ('Handel')",
        "UPDATE categories SET show_on = 'both' WHERE name = 'Partner'",
    )

    pulled = cli("--allow-outside-root", "pull", folder, "--target", demo_url)

    assert pulled.exit_code == 0, pulled.output
    assert elsewhere.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n"
    )
    assert "{name: Partner, show_on: both}" in categories.read_text(encoding="utf-8")
    assert (folder / "industries.yaml").is_symlink() and (folder / "categories.yaml").is_symlink()


def test_an_item_an_overlay_drops_and_writes_anew_is_pulled_into_the_overlay(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    base = tmp_path / "crm" / "base" / "settings.yaml"
    prod = tmp_path / "crm" / "envs" / "prod" / "settings.yaml"
    base.parent.mkdir(parents=True)
    prod.parent.mkdir(parents=True)
    base_text = (
        "crmconf: 1\ngroups:\n  - name: Försäljning\n    type: sales\n    description: Säljare\n"
        "    members: [anna@example.com]\n"
        "  - {name: Administration, type: standard, members: [lisa@example.com]}\n"
    )
    base.write_text(base_text, encoding="utf-8")
    prod.write_text(  # prod's sales group is its own: nothing of the base's applies
        "crmconf: 1\ndrop:\n  groups: [Försäljning]\ngroups:\n  - name: Försäljning\n"
        "    type: sales\n",
        encoding="utf-8",
    )
    by_hand(
        demo_url,
        "DELETE FROM group_members WHERE group_id = (SELECT id FROM crm_groups WHERE "
        "name = 'Försäljning')",
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM crm_groups g, "
        "users u WHERE g.name = 'Försäljning' AND u.login = 'erik@example.com'",
        "UPDATE crm_groups SET description = 'Ny' WHERE name = 'Försäljning'",
    )

    _ok(cli("pull", tmp_path / "crm", "--env", "prod", "--target", demo_url))

    assert base.read_text(encoding="utf-8") == base_text
    assert prod.read_text(encoding="utf-8") == (
        "crmconf: 1\ndrop:\n  groups: [Försäljning]\ngroups:\n  - name: Försäljning\n"
        "    type: sales\n    description: Ny\n    members: [erik@example.com]\n"
    )
    planned = cli("plan", tmp_path / "crm", "--env", "prod", "--target", demo_url)
    assert "No changes" in planned.output, planned.output


def test_a_value_written_as_a_block_scalar_is_replaced_and_what_follows_stays(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    written = (
        "crmconf: 1\ngroups:\n  - name: Försäljning\n    type: sales\n    description: |\n"
        "      Säljare\n    members: [anna@example.com]\n"
        "  - name: Administration\n    type: standard\n    members: [lisa@example.com]\n"
        "    description: >-\n      Kontoret\n\n# the end\n"
    )
    config = write_config(
        written.replace(  # a group the CRM does not have, taken out: not the line after it
            "  - name: Administration\n",
            "  - name: Extra\n    type: standard\n    description: |\n      Text\n"
            "  - name: Administration\n",
        )
    )
    by_hand(
        demo_url,
        "UPDATE crm_groups SET description = 'Ny' WHERE name = 'Försäljning'",
        "UPDATE crm_groups SET description = 'Två\nrader' WHERE name = 'Administration'",
    )

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\ngroups:\n  - name: Försäljning\n    type: sales\n    description: Ny\n"
        "    members: [anna@example.com]\n"
        "  - name: Administration\n    type: standard\n    members: [lisa@example.com]\n"
        '    description: "Två\\nrader"\n\n# the end\n'
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0
