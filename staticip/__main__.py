"""Entry point for ``python -m staticip``."""

import sys

from staticip.cli import main

sys.exit(main())
