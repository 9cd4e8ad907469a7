"""``python -m authadapter``: the command line, through the interpreter at hand (no PATH needed)."""

import sys

from authadapter._main import main

sys.exit(main())
