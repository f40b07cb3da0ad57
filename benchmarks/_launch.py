"""Fallback for machines without /usr/bin/time: run a command, write its peak RSS (KB).

Used as `python _launch.py RSS_FILE COMMAND...`.  The child is forked from this
small interpreter, so its own resident set (about 10 MB) is the floor of the figure.
"""

import os
import subprocess
import sys

rss_file, *command = sys.argv[1:]
child = subprocess.Popen(command)
_pid, status, usage = os.wait4(child.pid, 0)
with open(rss_file, "w") as handle:
    handle.write(f"{usage.ru_maxrss}\n")
sys.exit(os.waitstatus_to_exitcode(status))
