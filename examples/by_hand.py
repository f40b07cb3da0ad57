"""Change the demo sandbox as someone in the CRM's admin pages would: straight in its
tables, not through crmconf — for trying `crmconf drift` and `crmconf pull`.

    .venv/bin/python examples/by_hand.py "UPDATE industries SET name = 'Handel' WHERE id = 1"

Each argument is one SQL statement, run in one transaction on .crmconf/sandbox.db (or
the SQLite file given with --db FILE).
"""

import argparse
import sqlite3

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("statements", nargs="+", metavar="SQL")
parser.add_argument("--db", default=".crmconf/sandbox.db", metavar="FILE")
arguments = parser.parse_args()
with sqlite3.connect(arguments.db) as crm:
    for statement in arguments.statements:
        crm.execute(statement)
