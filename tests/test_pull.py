"""`crmconf pull`: changes made in the CRM by hand, written back into the configuration's
files in place — through the command, against real sandboxes and real files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine, text

Cli = Callable[..., Result]
Write = Callable[..., Path]

CONFIG = """\
# Our CRM settings
crmconf: 1
customer_info:
  show_as_tab: false
  contact_origins: [Mässa, Webbformulär]
  products: [Ekonomi, Lön]
  sources: [Google]
categories:
  - {name: Leverantör, show_on: both}   # suppliers
  - name: Partner        # our partners
    show_on: customer    # only customers
groups:
  - name: Administration
    type: standard
    members: [lisa@example.com]
  - name: Försäljning
    type: sales
    description: Säljare
    members:
      - anna@example.com   # lead
industries:
  - Bygg       # construction
  - Data/IT
  - Turism
status_types: [Aktiv, Ej bearbetad, Vilande]
sales:
  rejection_reasons: [Pris]
  types: [Nyförsäljning]
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 50, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
features: {restore_customers: false}
"""
"""The demo sandbox as a person would write it: comments, flow and block lists mixed."""

PULLED = """\
# Our CRM settings
crmconf: 1
customer_info:
  show_as_tab: true
  contact_origins: [Mässa, Webbformulär]
  products: [Ekonomi, Lön]
  sources: [Google]
categories:
  - {name: Leverantör, show_on: both}   # suppliers
  - name: Partner        # our partners
    show_on: both        # only customers
groups:
  - name: Administration
    type: standard
    members: [lisa@example.com]
  - name: Försäljning
    type: sales
    description: Säljare
    members:
      - anna@example.com   # lead
industries:
  - name: Byggnad  # construction
    renamed_from: [Bygg]
  - Data/IT
status_types: [Aktiv, Ej bearbetad, Vilande, Ny kund]
sales:
  rejection_reasons: [Pris]
  types: [Nyförsäljning]
  stages:
    - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
    - {title: Steg 2 Första besök, probability: 35, status: open}
    - {title: Steg 3 Andra besök, probability: 40, status: open}
    - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
features: {restore_customers: true}
"""

BY_HAND = (
    "UPDATE industries SET name = 'Byggnad' WHERE name = 'Bygg'",
    "UPDATE categories SET show_on = 'both' WHERE name = 'Partner'",
    "INSERT INTO status_types (name) VALUES ('Ny kund')",
    "UPDATE stages SET probability = 40 WHERE title = 'Steg 3 Andra besök'",
    "UPDATE switches SET enabled = true",
    "DELETE FROM industries WHERE name = 'Turism'",
)
"""What someone did in the CRM's admin pages (the demo company uses no Turism)."""


def by_hand(url: str, *statements: str) -> None:
    """Change the sandbox as its admin UI would: straight in its tables, not through crmconf."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.execute(text(statement))
    finally:
        engine.dispose()


def _ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_pull_writes_the_crms_changes_in_place_and_keeps_the_rest(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(CONFIG)
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0
    by_hand(demo_url, *BY_HAND)

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == PULLED
    assert '~ industry "Bygg" → "Byggnad": renamed in the CRM' in pulled.output
    assert '- industry "Turism": not in the CRM' in pulled.output
    assert '+ status type "Ny kund": only in the CRM' in pulled.output
    assert "Pulled 7 changes into 1 file(s)" in pulled.output
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0
    again = _ok(cli("pull", config, "--target", demo_url))
    assert "Nothing to pull" in again.output
    assert config.read_text(encoding="utf-8") == PULLED


def test_a_rename_of_an_item_crmconf_created_becomes_renamed_from(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n")
    _ok(cli("apply", config, "--target", demo_url, "--yes"))
    by_hand(demo_url, "UPDATE industries SET name = 'Detaljhandel' WHERE name = 'Handel'")

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism, "
        "{name: Detaljhandel, renamed_from: [Handel]}]\n"
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_without_a_record_of_ids_a_rename_shows_as_a_removal_and_an_addition(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism]\n")
    by_hand(
        demo_url,
        "DELETE FROM crmconf_applied_names",
        "UPDATE industries SET name = 'Turism och resor' WHERE name = 'Turism'",
    )

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert '- industry "Turism": not in the CRM' in pulled.output
    assert '+ industry "Turism och resor": only in the CRM' in pulled.output
    assert "no record of the ids crmconf applied" in pulled.output
    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [Bygg, Data/IT, Turism och resor]\n"
    )


def test_interactive_pull_writes_only_the_changes_accepted(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(CONFIG)
    by_hand(demo_url, *BY_HAND)

    pulled = _ok(cli("pull", config, "--target", demo_url, "--interactive", input="n\nY\nq\n"))

    assert pulled.output.count("Pull this change") == 3
    assert "(1/7)" in pulled.output and "(3/7)" in pulled.output
    written = config.read_text(encoding="utf-8")
    assert "show_as_tab: false" in written  # 1: no
    assert "show_on: both        # only customers" in written  # 2: yes
    assert "- Bygg       # construction" in written  # 3: quit
    assert "Pulled 1 change into 1 file(s)" in pulled.output
    assert cli("drift", config, "--target", demo_url).exit_code == 2  # the rest still differ


def test_interactive_all_and_end_of_input(cli: Cli, demo_url: str, write_config: Write) -> None:
    config = write_config(CONFIG)
    by_hand(demo_url, *BY_HAND)

    asked = _ok(cli("pull", config, "--target", demo_url, "-i", input="?\nn\na\n"))
    assert "a - write this change and every one after it" in asked.output  # the help
    assert asked.output.count("Pull this change") == 3  # ?, n, a: nothing asked after "a"
    assert "Pulled 6 changes" in asked.output
    assert "show_as_tab: false" in config.read_text(encoding="utf-8")

    config.write_text(CONFIG, encoding="utf-8")
    ended = _ok(cli("pull", config, "--target", demo_url, "-i", input="y\n"))
    assert "Pulled 1 change into" in ended.output  # end of input: what was accepted
    assert "show_as_tab: true" in config.read_text(encoding="utf-8")

    config.write_text(CONFIG, encoding="utf-8")
    nothing = _ok(cli("pull", config, "--target", demo_url, "-i", input=""))
    assert "Nothing was written." in nothing.output
    assert config.read_text(encoding="utf-8") == CONFIG


def test_dry_run_shows_the_diff_and_writes_nothing(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(CONFIG)
    by_hand(demo_url, *BY_HAND)

    shown = _ok(cli("pull", config, "--target", demo_url, "--dry-run"))

    assert config.read_text(encoding="utf-8") == CONFIG
    assert f"--- a/{config}" in shown.output
    assert "-  - Turism\n" in shown.output
    assert "+    show_on: both        # only customers\n" in shown.output
    assert "7 changes to pull; nothing was written (--dry-run)." in shown.output
    refused = cli("pull", config, "--target", demo_url, "--dry-run", "-i")
    assert refused.exit_code == 1 and "do not go together" in refused.output


def _layout(root: Path) -> tuple[Path, Path]:
    base = root / "crm" / "base" / "settings.yaml"
    prod = root / "crm" / "envs" / "prod" / "settings.yaml"
    base.parent.mkdir(parents=True)
    prod.parent.mkdir(parents=True)
    base.write_text(
        textwrap.dedent(
            """\
            crmconf: 1
            categories:
              - {name: Leverantör, show_on: both}
              - {name: Partner, show_on: both}   # base
            industries: [Bygg, Data/IT, Turism]
            """
        ),
        encoding="utf-8",
    )
    prod.write_text(
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: contact}  # prod only\n",
        encoding="utf-8",
    )
    return base, prod


def test_each_value_is_pulled_into_the_file_that_wrote_it(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    base, prod = _layout(tmp_path)
    by_hand(
        demo_url,
        "UPDATE categories SET show_on = 'customer' WHERE name = 'Partner'",
        "UPDATE categories SET show_on = 'contact' WHERE name = 'Leverantör'",
        "INSERT INTO industries (name) VALUES ('Handel')",
    )

    pulled = _ok(cli("pull", tmp_path / "crm", "--env", "prod", "--target", demo_url))

    assert prod.read_text(encoding="utf-8") == (
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: customer}  # prod only\n"
    )
    assert base.read_text(encoding="utf-8") == textwrap.dedent(
        """\
        crmconf: 1
        categories:
          - {name: Leverantör, show_on: contact}
          - {name: Partner, show_on: both}   # base
        industries: [Bygg, Data/IT, Turism, Handel]
        """
    )
    assert "is the base every environment shares" in pulled.output
    planned = cli("plan", tmp_path / "crm", "--env", "prod", "--target", demo_url)
    assert "No changes" in planned.output, planned.output


def test_only_and_exclude_select_what_is_pulled(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(CONFIG)
    by_hand(demo_url, *BY_HAND)

    _ok(cli("pull", config, "--target", demo_url, "--only", "industries:Bygg"))
    written = config.read_text(encoding="utf-8")
    assert "renamed_from: [Bygg]" in written and "- Turism" in written
    assert "show_on: customer" in written

    _ok(cli("pull", config, "--target", demo_url, "--exclude", "industries"))
    written = config.read_text(encoding="utf-8")
    assert "- Turism" in written and "show_on: both        # only customers" in written

    before = config.read_bytes()
    typo = cli("pull", config, "--target", demo_url, "--only", "industries:Bgyg*")
    assert typo.exit_code == 1
    assert "Bgyg*" in typo.output and "Traceback" not in typo.output
    assert config.read_bytes() == before


def test_decisions_not_applied_yet_and_unmanaged_items_are_left_alone(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    text_before = textwrap.dedent(
        """\
        crmconf: 1
        industries:
          - Bygg
          - {name: IT, renamed_from: [Data/IT]}
        status_types: [Aktiv, Ej bearbetad]
        prune: {status_types: false}
        removed:
          industries: [{name: Turism, move_customers_to: Bygg}]
        """
    )
    config = write_config(text_before)

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert "Nothing to pull" in pulled.output
    assert config.read_text(encoding="utf-8") == text_before
    assert 'left alone: industry "IT": the configuration renames "Data/IT"' in pulled.output
    assert 'left alone: industry "Turism": the configuration removes it' in pulled.output
    assert 'prune: false leaves unmanaged: "Vilande"' in pulled.output


def test_groups_are_pulled_into_the_tree(cli: Cli, demo_url: str, write_config: Write) -> None:
    config = write_config(
        textwrap.dedent(
            """\
            crmconf: 1
            groups:
              - name: Administration   # the office
                type: standard
                members: [lisa@example.com]
              - name: Försäljning
                type: sales
                description: Säljare
                members: [anna@example.com]
                children:
                  - {name: Sälj Norr, type: sales}
                  - name: Sälj Syd
                    type: sales
                    children:
                      - {name: Sälj Malmö, type: sales}
            """
        )
    )
    _ok(cli("apply", config, "--target", demo_url, "--yes"))
    by_hand(  # added first: SQLite gives a new row the highest id again once deleted
        demo_url,
        "INSERT INTO crm_groups (name, type, description, parent_id) SELECT 'Sälj Luleå', "
        "'sales', '', id FROM crm_groups WHERE name = 'Sälj Norr'",
        "INSERT INTO crm_groups (name, type, description, parent_id) SELECT 'Ekonomi', "
        "'standard', 'Bokföring', id FROM crm_groups WHERE name = 'Administration'",
        "DELETE FROM crm_groups WHERE name = 'Sälj Malmö'",
        "DELETE FROM crm_groups WHERE name = 'Sälj Syd'",
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM crm_groups g, "
        "users u WHERE g.name = 'Försäljning' AND u.login = 'erik@example.com'",
    )

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert '- group "Sälj Syd": not in the CRM; take it out' in pulled.output
    assert "with 1 subitem(s)" in pulled.output
    assert config.read_text(encoding="utf-8") == textwrap.dedent(
        """\
        crmconf: 1
        groups:
          - name: Administration   # the office
            type: standard
            members: [lisa@example.com]
            children:
              - {name: Ekonomi, type: standard, description: Bokföring}
          - name: Försäljning
            type: sales
            description: Säljare
            members: [anna@example.com, erik@example.com]
            children:
              - {name: Sälj Norr, type: sales, children: [{name: Sälj Luleå, type: sales}]}
        """
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_a_group_whose_subgroups_stay_in_the_crm_is_left_alone(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        "crmconf: 1\ngroups:\n  - name: Försäljning\n    type: sales\n    children:\n"
        "      - {name: Sälj Norr, type: sales}\n"
    )
    _ok(cli("apply", config, "--target", demo_url, "--yes", "--allow-mass-change"))
    by_hand(
        demo_url,
        "UPDATE crm_groups SET parent_id = NULL WHERE name = 'Sälj Norr'",
        "DELETE FROM group_members WHERE group_id IN "
        "(SELECT id FROM crm_groups WHERE name = 'Försäljning')",
        "DELETE FROM crm_groups WHERE name = 'Försäljning'",
    )
    before = config.read_bytes()

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert 'its subitems "Sälj Norr" are' in pulled.output
    assert "its parent group differs in the CRM: move the entry by hand" in pulled.output
    assert config.read_bytes() == before


def test_a_stage_added_in_the_crm_goes_to_its_place_in_the_pipeline(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    stages = textwrap.dedent(
        """\
        crmconf: 1
        sales:
          stages:
            - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
            - {title: Steg 2 Första besök, probability: 35, status: open}
            - {title: Steg 3 Andra besök, probability: 50, status: open}
            - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
        """
    )
    config = write_config(stages)
    by_hand(
        demo_url,
        "UPDATE stages SET position = position + 1 WHERE position >= 2",
        "INSERT INTO stages (title, probability, status, position) "
        "VALUES ('Steg 1b Offert', 25, 'open', 2)",
    )

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == stages.replace(
        "    - {title: Steg 2",
        "    - {title: Steg 1b Offert, probability: 25, status: open}\n    - {title: Steg 2",
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0

    by_hand(demo_url, "UPDATE stages SET position = 10 WHERE title = 'Steg 1 Telefonsamtal'")
    moved = _ok(cli("pull", config, "--target", demo_url))
    assert "the order of the stages differs in the CRM: reorder the entries" in moved.output
    assert "Nothing to pull" in moved.output


def test_values_written_with_variables_and_files_with_aliases_are_left_alone(
    cli: Cli, demo_url: str, write_config: Write, tmp_path: Path
) -> None:
    varied = write_config(
        "crmconf: 1\ncategories:\n  - {name: Partner, show_on: '${SHOW}'}\n"
        "  - {name: Leverantör, show_on: both}\n"
    )
    by_hand(demo_url, "UPDATE categories SET show_on = 'contact'")
    vars_file = tmp_path / "vars.yaml"
    vars_file.write_text("SHOW: customer\n", encoding="utf-8")

    pulled = _ok(cli("pull", varied, "--vars", vars_file, "--target", demo_url))

    assert 'left alone: category "Partner": show_on is written with ${NAME}' in pulled.output
    assert varied.read_text(encoding="utf-8").count("show_on: '${SHOW}'") == 1
    assert "{name: Leverantör, show_on: contact}" in varied.read_text(encoding="utf-8")

    aliased = write_config(
        "crmconf: 1\ncategories:\n  - &p {name: Partner, show_on: contact}\n"
        "  - {name: Leverantör, show_on: contact}\nindustries: [Bygg, Data/IT]\n",
        name="aliased.yaml",
    )
    by_hand(demo_url, "UPDATE categories SET show_on = 'both'")
    before = aliased.read_bytes()
    left = _ok(cli("pull", aliased, "--target", demo_url))
    assert "uses YAML aliases" not in left.output  # no alias in use: the anchor alone is fine
    assert aliased.read_bytes() != before

    used = write_config(
        "crmconf: 1\nstatus_types: &s [Aktiv, Ej bearbetad, Vilande]\nindustries: *s\n",
        name="used.yaml",
    )
    before = used.read_bytes()
    refused = _ok(cli("pull", used, "--target", demo_url))
    assert "used.yaml uses YAML aliases (*name)" in refused.output
    assert "Nothing to pull" in refused.output
    assert used.read_bytes() == before


def test_crlf_line_ends_and_a_byte_order_mark_are_kept(
    cli: Cli, demo_url: str, tmp_path: Path
) -> None:
    config = tmp_path / "windows.yaml"
    original = "\ufeffcrmconf: 1\r\nindustries:\r\n  - Bygg   # a\r\n  - Data/IT\r\n  - Turism\r\n"
    config.write_bytes(original.encode("utf-8"))
    by_hand(demo_url, "INSERT INTO industries (name) VALUES ('Handel')")

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_bytes().decode("utf-8") == original + "  - Handel\r\n"


def test_pull_fails_cleanly_and_changes_no_file(
    cli: Cli, demo_url: str, write_config: Write, tmp_path: Path
) -> None:
    config = write_config(CONFIG)
    missing = cli("pull", config, "--target", f"sqlite:///{tmp_path / 'none.db'}")
    assert missing.exit_code == 1
    assert "no sandbox at" in missing.output and "Traceback" not in missing.output

    broken = write_config("crmconf: 1\nindustries: [Bygg\n", name="broken.yaml")
    failed = cli("pull", broken, "--target", demo_url)
    assert failed.exit_code == 1 and "broken.yaml:" in failed.output
    assert broken.read_text(encoding="utf-8") == "crmconf: 1\nindustries: [Bygg\n"

    usage = cli("pull", "--target", demo_url)
    assert usage.exit_code == 1 and "give the configuration PATH, or --tenant" in usage.output
    assert config.read_text(encoding="utf-8") == CONFIG


def test_a_stage_and_the_rejection_reason_it_names_are_pulled_together(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    text_before = textwrap.dedent(
        """\
        crmconf: 1
        sales:
          rejection_reasons: [Pris]
          stages:
            - {title: Steg 1 Telefonsamtal, probability: 15, status: open}
            - {title: Steg 2 Första besök, probability: 35, status: open}
            - {title: Steg 3 Andra besök, probability: 50, status: open}
            - {title: Steg 4 Uppföljningssamtal, probability: 100, status: open_won}
        """
    )
    config = write_config(text_before)
    by_hand(
        demo_url,
        "INSERT INTO rejection_reasons (name) VALUES ('Tid')",
        "INSERT INTO stages (title, probability, status, rejection_reason_id, position) "
        "SELECT 'Förlorad', 0, 'closed_lost', id, 5 FROM rejection_reasons WHERE name = 'Tid'",
    )

    half = cli("pull", config, "--target", demo_url, "-i", input="n\ny\n")
    assert half.exit_code == 1
    assert 'stage "Förlorad" goes with rejection reason "Tid"' in half.output
    assert "Accept both, or neither; no file was changed" in half.output
    assert config.read_text(encoding="utf-8") == text_before

    both = _ok(cli("pull", config, "--target", demo_url))
    assert '(goes with the change of rejection reason "Tid")' in both.output
    assert "rejection_reasons: [Pris, Tid]" in config.read_text(encoding="utf-8")
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_a_tenant_is_pulled_with_its_user_aliases(cli: Cli, demo_url: str, tmp_path: Path) -> None:
    config = tmp_path / "acme.yaml"
    config.write_text(
        "crmconf: 1\ngroups:\n  - {name: Administration, type: standard, members: [lisa]}\n"
        "  - name: Försäljning\n    type: sales\n    description: Säljare\n"
        "    members: [anna]   # the lead\n",
        encoding="utf-8",
    )
    project = tmp_path / "crmconf.yaml"
    project.write_text(
        f"crmconf: 1\ntenants:\n  - name: acme\n    target: {demo_url}\n    config: acme.yaml\n"
        "    users: {anna: anna@example.com, erik: erik@example.com, lisa: lisa@example.com}\n",
        encoding="utf-8",
    )
    by_hand(
        demo_url,
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM crm_groups g, "
        "users u WHERE g.name = 'Försäljning' AND u.login = 'erik@example.com'",
        "INSERT INTO group_members (group_id, user_id) SELECT g.id, u.id FROM crm_groups g, "
        "users u WHERE g.name = 'Administration' AND u.login = 'maria@example.com'",
    )

    pulled = _ok(cli("pull", "--tenant", "acme", "--project", project))

    assert 'members: ["anna"] → ["anna", "erik"]' in pulled.output
    assert "tenant 'acme' maps no alias to \"maria@example.com\"" in pulled.output
    assert "    members: [anna, erik]  # the lead\n" in config.read_text(encoding="utf-8")
    assert "members: [lisa]}" in config.read_text(encoding="utf-8")

    unknown = cli("pull", "--tenant", "globex", "--project", project)
    assert (
        unknown.exit_code == 1 and "no tenant of" in unknown.output and "(acme)" in unknown.output
    )
    both = cli("pull", config, "--tenant", "acme", "--project", project)
    assert both.exit_code == 1 and "PATH cannot be used with --tenant" in both.output


def test_an_item_added_after_an_entry_whose_last_subitem_is_taken_out(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config(
        textwrap.dedent(
            """\
            crmconf: 1
            groups:
              - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}
              - name: Administration
                type: standard
                members: [lisa@example.com]
                children:
                  - {name: Kvar, type: standard}
                  - name: Arkiv
                    type: standard
            """
        )
    )
    _ok(cli("apply", config, "--target", demo_url, "--yes"))
    by_hand(
        demo_url,
        "INSERT INTO crm_groups (name, type, description) VALUES ('Ekonomi', 'standard', '')",
        "DELETE FROM crm_groups WHERE name = 'Arkiv'",
    )

    _ok(cli("pull", config, "--target", demo_url))

    assert config.read_text(encoding="utf-8") == textwrap.dedent(
        """\
        crmconf: 1
        groups:
          - {name: Försäljning, type: sales, description: Säljare, members: [anna@example.com]}
          - name: Administration
            type: standard
            members: [lisa@example.com]
            children:
              - {name: Kvar, type: standard}
          - {name: Ekonomi, type: standard}
        """
    )
    assert cli("plan", config, "--target", demo_url, "--detailed-exitcode").exit_code == 0


def test_a_rename_by_hand_is_still_told_after_an_apply_that_left_the_item_alone(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT, Turism, Handel]\n")
    by_hand(demo_url, "UPDATE industries SET name = 'Hus' WHERE name = 'Bygg'")
    _ok(cli("apply", config, "--target", demo_url, "--yes", "--only", "industries:Handel"))

    pulled = _ok(cli("pull", config, "--target", demo_url))

    assert '~ industry "Bygg" → "Hus": renamed in the CRM' in pulled.output
    assert config.read_text(encoding="utf-8") == (
        "crmconf: 1\nindustries: [{name: Hus, renamed_from: [Bygg]}, Data/IT, Turism, Handel]\n"
    )


def test_answers_from_a_pipe_show_short_and_without_control_characters(
    cli: Cli, demo_url: str, write_config: Write
) -> None:
    config = write_config("crmconf: 1\nindustries: [Bygg, Data/IT]\n")

    answered = _ok(
        cli("pull", config, "--target", demo_url, "-i", input="\x1b[31m" + "x" * 500 + "\nq\n")
    )

    assert "\x1b" not in answered.output and "x" * 21 not in answered.output
    assert "?[31mxxxxxxxxxxxxxxx…" in answered.output
    assert config.read_text(encoding="utf-8") == "crmconf: 1\nindustries: [Bygg, Data/IT]\n"
