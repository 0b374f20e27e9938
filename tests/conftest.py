"""Test set-up: tests import the installed pyisp; bench/casegen.py generates cases."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for extra in (HERE, HERE.parent / "bench"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))
