"""Write models/sine.calibration.csv: the inputs the model sees in use, x in [0, 2*pi].

The model was trained on exactly this range, so evenly spread x values are real
calibration data for it. Standard library only; deterministic.
"""

import math
from pathlib import Path

SAMPLES = 200
out = Path(__file__).resolve().parents[1] / "models" / "sine.calibration.csv"
rows = [f"{2 * math.pi * i / (SAMPLES - 1):.6f}" for i in range(SAMPLES)]
out.write_text("\n".join(rows) + "\n")
print(f"wrote {out} ({SAMPLES} samples)")
