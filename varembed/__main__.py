"""``python -m varembed``: the command line (see :mod:`varembed.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
