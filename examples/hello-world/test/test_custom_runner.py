"""`pio test` runner of this project: the shared line-protocol runner of the repository."""

import os
import sys

sys.path.insert(
    0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "platforms", "testing")
)

from line_protocol_runner import CustomTestRunner  # noqa: E402,F401
