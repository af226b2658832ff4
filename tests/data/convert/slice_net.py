"""A net whose forward splits its features into `parts` slices and joins them again with one
torch.cat (wider than TFLite Micro's CONCATENATION kernel takes)."""

import torch
from torch import nn


class SliceNet(nn.Module):
    """Splits its features into `parts` slices, one Linear per slice, joins them again."""

    def __init__(self, parts: int = 12) -> None:
        super().__init__()
        self.parts = parts
        self.fc1 = nn.Linear(64, 4 * parts)
        self.heads = nn.ModuleList([nn.Linear(4, 2) for _ in range(parts)])
        self.out = nn.Linear(2 * parts, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.fc1(x.flatten(1)))
        pieces = torch.split(h, 4, dim=1)
        y = torch.cat([f(p) for f, p in zip(self.heads, pieces)], dim=1)
        return self.out(torch.relu(y))
