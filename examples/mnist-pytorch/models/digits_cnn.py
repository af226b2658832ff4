"""The model class for digits_cnn.pth: a small CNN for 8x8 grayscale digits.

Input 1x1x8x8 (NCHW, pixels 0..1), output 10 logits. pio-tinyml finds this class
because the file sits next to the .pth with the same name.
"""

import torch.nn as nn


class DigitsCNN(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * channels * 4, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))
