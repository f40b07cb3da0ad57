"""`crmconf plan --format markdown`: the plan as one sticky pull-request comment.

The Markdown is parsed with markdown-it-py (CommonMark plus GFM tables) to check
what GitHub and GitLab would show, not only which characters were printed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from markdown_it import MarkdownIt

from crmconf.config.reading import load
from crmconf.planning.planner import kinds_to_read, plan
from crmconf.planning.render.markdown import COMMENT_LIMIT, MARKER, render_markdown
from crmconf.targets.sandbox.target import SandboxTarget
from tests.conftest import MOVES, ROOT, SEED

WriteConfig = Callable[..., Path]
Cli = Callable[..., Result]


MERGE = """\
crmconf: 1
industries: [Bygg, Turism]
removed:
  industries: [{name: Data/IT, move_customers_to: Bygg}]
"""


def _markdown(cli: Cli, path: Path, url: str, *arguments: str) -> str:
    result = cli("plan", path, "--target", url, "--format", "markdown", *arguments)
    assert result.exit_code == 0, result.output
    return result.stdout


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown)


def _summary_rows(markdown: str) -> dict[str, list[str]]:
    """The summary table: kind → its cells (add, change, rename, move, delete)."""
    header = "| Kind | Add | Change | Rename | Move | Delete |"
    lines = markdown.splitlines()
    start = lines.index(header) + 2
    rows: dict[str, list[str]] = {}
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().strip("`*") for cell in line.strip("|").split("|")]
        rows[cells[0]] = [cell.strip("*") for cell in cells[1:]]
    return rows


def test_comment_starts_with_the_marker_and_calls_out_deletions_first(
    cli: Cli, demo_url: str
) -> None:
    text = _markdown(cli, SEED, demo_url)

    assert text.startswith(MARKER + "\n")
    assert text.splitlines()[1] == "### crmconf plan: 9 to add, 7 to change, 3 to delete"
    callout = text.index("**⚠️ 3 deletions**")
    assert callout < text.index("| Kind |") < text.index("<details>")
    for deleted in ("`industries` **Turism**", "`status_types` **Vilande**"):
        assert callout < text.index(deleted) < text.index("| Kind |")


def test_summary_counts_renames_and_moves_apart_from_other_changes(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    seed = _summary_rows(_markdown(cli, SEED, demo_url))
    moves = _summary_rows(_markdown(cli, write_config(MOVES), demo_url))

    assert seed["industries"] == ["0", "0", "1", "0", "1"]
    assert seed["sales.stages"] == ["1", "1", "0", "0", "0"]
    assert seed["Total"] == ["9", "6", "1", "0", "3"]
    # Administration moves under Försäljning (its members change too: still a move);
    # Steg 4 moves to the top of the pipeline, the others keep their relative order.
    assert moves["groups"] == ["0", "0", "0", "1", "0"]
    assert moves["sales.stages"] == ["0", "0", "0", "1", "0"]


def test_details_fold_each_kind_with_before_after_and_usage(cli: Cli, demo_url: str) -> None:
    html = _html(_markdown(cli, SEED, demo_url))

    folded = re.findall(r"<details><summary><code>([\w.]+)</code>: ([^<]+)</summary>", html)
    assert ("industries", "1 rename, 1 delete") in folded
    assert ("sales.stages", "1 add, 1 change") in folded
    assert (
        "<tr>\n<td>rename</td>\n<td>IT och telekom</td>\n"
        "<td>name: &quot;Data/IT&quot; → &quot;IT och telekom&quot;</td>\n"
        "<td>20 customers</td>\n</tr>" in html
    )
    assert "<td>probability: 50 → 65</td>\n<td>8 opportunities</td>" in html
    assert "<td>show_on: &quot;customer&quot; → &quot;both&quot;</td>" in html
    assert html.count("<details>") == html.count("</details>") == 12


def test_a_delete_with_a_migration_says_where_the_data_goes(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    text = _markdown(cli, write_config(MERGE), demo_url)

    assert (
        '> - `industries` **Data/IT** — used by 20 customers, what uses it moves to "Bygg"'
    ) in text
    assert (
        '| **delete** | Data/IT | deleted<br>what uses it moves to "Bygg" | 20 customers |' in text
    )


def test_names_with_pipes_html_and_markup_are_shown_as_written(
    cli: Cli, write_config: WriteConfig, sandbox_url: str
) -> None:
    names = ["Bygg | Anläggning", "<script>alert(1)</script>", "*Fet* _kursiv_ `kod` [länk](x) $x$"]
    path = write_config("crmconf: 1\nindustries:\n" + "".join(f"  - '{name}'\n" for name in names))

    html = _html(_markdown(cli, path, sandbox_url))

    assert "<script>" not in html
    assert "<em>" not in html and "<code>kod</code>" not in html and "<a " not in html
    rows = re.findall(r"<tr>\n<td>add</td>\n<td>(.*?)</td>\n<td>–</td>\n<td>–</td>\n</tr>", html)
    assert rows == [
        "Bygg | Anläggning",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "*Fet* _kursiv_ `kod` [länk](x) $x$",
    ]


def test_no_changes_says_so(cli: Cli, demo_url: str) -> None:
    cli("apply", SEED, "--target", demo_url, "--yes")

    text = _markdown(cli, SEED, demo_url)

    assert text == (
        f"{MARKER}\n### crmconf plan: no changes\n\nThe target matches the configuration.\n"
    )


def test_warnings_and_the_only_scope_are_shown(
    cli: Cli, write_config: WriteConfig, demo_url: str
) -> None:
    path = write_config(
        MOVES.replace("probability: 100, status: open_won", "probability: 90, status: open_won")
    )

    text = _markdown(cli, path, demo_url, "--only", "sales")

    assert "Limited to `sales.rejection_reasons`, `sales.types`, `sales.stages` (`--only`)." in text
    assert "**1 warning**" in text
    assert "stage 'Steg 4 Uppföljningssamtal' is won but its probability is 90 %" in text
    assert "`groups`" not in text


def test_a_plan_too_long_for_one_comment_is_cut_with_a_note(
    cli: Cli, write_config: WriteConfig, sandbox_url: str
) -> None:
    names = [f"Bransch {number:04} " + "x" * 80 for number in range(1500)]
    path = write_config("crmconf: 1\nindustries:\n" + "".join(f"  - {n}\n" for n in names))

    text = _markdown(cli, path, sandbox_url)

    assert len(text) <= COMMENT_LIMIT
    shown = len(re.findall(r"^\| add \| Bransch", text, re.MULTILINE))
    assert 100 < shown < 1500
    assert text.rstrip().endswith(
        f"> **Truncated:** this comment shows {shown} of 1500 changes, to stay within "
        "GitHub's limit of 65,536 characters per comment. The whole plan is in the JSON "
        "plan: the `plan.json` artefact of the CI job, or `crmconf plan CONFIG --format json`."
    )
    assert text.count("<details>") == text.count("</details>") == 1
    assert "| **Total** | **1500** |" in text


def test_truncation_keeps_any_limit_and_closes_what_it_opened(demo_target: SandboxTarget) -> None:
    config = load(SEED)
    result = plan(config, demo_target.read(kinds_to_read(config)))
    whole = render_markdown(result)

    for limit in range(900, len(whole), 97):
        text = render_markdown(result, limit=limit)
        assert len(text) <= limit
        assert text.startswith(MARKER)
        assert text.count("<details>") == text.count("</details>")
        assert "**Truncated:**" in text
    assert "**Truncated:**" not in whole
    assert render_markdown(result, limit=len(whole)) == whole


def test_the_readme_example_is_what_the_command_prints(cli: Cli, demo_url: str) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "`crmconf plan examples/seed.yaml --only industries --format markdown` prints:"
    shown = readme.split(command, 1)[1].split("````markdown\n", 1)[1].split("````", 1)[0]

    assert shown == _markdown(cli, SEED, demo_url, "--only", "industries")
