"""A small CNN for the 8x8 digits (input 1x1x8x8, 10 logits)."""

import torch.nn as nn


class SmallCNN(nn.Module):
    def __init__(self, channels=8):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        self.head = nn.Linear(2 * channels * 4, 10)

    def forward(self, x):
        return self.head(self.features(x).flatten(1))
