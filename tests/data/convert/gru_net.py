"""A keyword-spotting-sized recurrent net: a GRU over MFCC frames [N, T, 13] (batch first),
then a Linear on the last frame's state."""

import torch
from torch import nn


class GruNet(nn.Module):
    def __init__(self, features: int = 13, hidden: int = 16, classes: int = 4) -> None:
        super().__init__()
        self.gru = nn.GRU(features, hidden, batch_first=True)
        self.head = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.head(out[:, -1])
