"""``python -m flake8_modreg`` is the ``modreg`` command."""

import sys

from .cli import main

sys.exit(main())
