"""`pio test` runner of this project: the shared line-protocol runner of the repository."""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "platforms", "testing"))

from line_protocol_runner import CustomTestRunner  # noqa: E402,F401
