"""``python -m labkit``: the ``labkit`` command (see ``labkit/cli.py``)."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
