"""python3 -m epsim_plot: see cli.py."""

import sys

from .cli import main

sys.exit(main())
