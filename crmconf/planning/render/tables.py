"""Plain-text tables with aligned columns, for reports a person reads in a terminal."""

from __future__ import annotations

from collections.abc import Sequence


def aligned(rows: Sequence[Sequence[str]], numeric: Sequence[bool], indent: str = "") -> list[str]:
    """The rows as lines, each column as wide as its widest cell; numeric columns flush right.

    Cells are shown with `one_line`: they hold the CRM's data (a customer's name, a
    login), and a line break there would draw a row that is not in the CRM."""
    rows = [[one_line(cell) for cell in row] for row in rows]
    widths = [max(len(row[column]) for row in rows) for column in range(len(numeric))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(width) if right else cell.ljust(width)
            for cell, width, right in zip(row, widths, numeric, strict=True)
        ]
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


def one_line(text: str) -> str:
    """Text on one line of output as it is: a newline, a control or a bidi character (in an
    actor, a name) is shown as its escape, so it cannot forge or reorder a line."""
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)
