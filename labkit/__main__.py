"""``python -m labkit prepare`` converts and caches the offline models (used by ``make setup``);
``python -m labkit clear-cache`` removes the converted generator."""
import sys

from .models import _main

sys.exit(_main(sys.argv[1:]))
