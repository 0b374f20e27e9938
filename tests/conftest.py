"""Test set-up: tests import the installed pyisp (pyisp.authoring.generate makes generated cases)."""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
