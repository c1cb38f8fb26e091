"""``python -m gsocklab.check NOTEBOOK…``: grade notebooks by their check cells (see `grade`)."""

import sys

from ._grade import main

sys.exit(main())
