"""MFCC features of real speech for the MLPerf Tiny KWS DS-CNN (run with the converter
environment's python): TFLM's four 1-second 16 kHz test recordings (yes, no, silence, noise),
each shifted in time as the benchmark's training does, through the benchmark's own front end
(30 ms windows every 20 ms, 40 mel bins 20-4000 Hz, 10 MFCCs -> 49 x 10 x 1).

    python make_kws_features.py WAV_DIR OUT_DIR

Writes OUT_DIR/calibration.npy (shifts -100, -50, 0, 50, 100 ms) and OUT_DIR/validation.npz
(x: shifts -75, -25, 25, 75 ms; y: the benchmark's label index).
"""

import json
import os
import sys
import wave
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

RATE = 16000
# The benchmark's 12 labels: down go left no off on right stop up yes _silence_ _unknown_.
LABELS = {"yes": 9, "no": 3, "silence": 10, "noise": 11}


def read_wav(path: Path) -> np.ndarray:
    with wave.open(str(path)) as w:
        assert w.getframerate() == RATE and w.getsampwidth() == 2 and w.getnchannels() == 1
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0


def shifted(audio: np.ndarray, ms: int) -> np.ndarray:
    n = RATE * ms // 1000
    out = np.zeros(RATE, dtype=np.float32)
    src = audio[:RATE]
    if n >= 0:
        out[n:] = src[: RATE - n]
    else:
        out[:n] = src[-n:]
    return out


def mfcc(audio: np.ndarray) -> np.ndarray:
    stft = tf.signal.stft(audio, frame_length=480, frame_step=320, fft_length=512)
    spectrogram = tf.abs(stft)
    mel = tf.signal.linear_to_mel_weight_matrix(40, 257, RATE, 20.0, 4000.0)
    log_mel = tf.math.log(tf.tensordot(spectrogram, mel, 1) + 1e-6)
    coefficients = tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :10]
    return coefficients.numpy().reshape(49, 10, 1)


def main(wav_dir: Path, out_dir: Path) -> None:
    audio = {name: read_wav(wav_dir / f"{name}_1000ms.wav") for name in LABELS}
    calib = [mfcc(shifted(a, ms)) for a in audio.values() for ms in (-100, -50, 0, 50, 100)]
    val = [(mfcc(shifted(a, ms)), LABELS[n]) for n, a in audio.items() for ms in (-75, -25, 25, 75)]
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "calibration.npy", np.stack(calib).astype(np.float32))
    np.savez(
        out_dir / "validation.npz",
        x=np.stack([x for x, _ in val]).astype(np.float32),
        y=np.array([y for _, y in val], dtype=np.int64),
    )
    print(json.dumps({"calibration": len(calib), "validation": len(val)}))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
