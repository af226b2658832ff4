"""``python -m platformio_plugin``: see :mod:`platformio_plugin.cli`."""

import sys

from .cli import main

sys.exit(main())
