"""LeNet-5 matching the state_dict in pth_lenet5_mnist/mnist_cnn.pt.

Layer names and sizes follow the published training code of that checkpoint
(input 1x1x32x32, LogSoftmax over 10 classes).
"""

from collections import OrderedDict

import torch.nn as nn


class LeNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.convnet = nn.Sequential(
            OrderedDict(
                [
                    ("c1", nn.Conv2d(1, 6, kernel_size=(5, 5))),
                    ("relu1", nn.ReLU()),
                    ("s2", nn.MaxPool2d(kernel_size=(2, 2), stride=2)),
                    ("c3", nn.Conv2d(6, 16, kernel_size=(5, 5))),
                    ("relu3", nn.ReLU()),
                    ("s4", nn.MaxPool2d(kernel_size=(2, 2), stride=2)),
                    ("c5", nn.Conv2d(16, 120, kernel_size=(5, 5))),
                    ("relu5", nn.ReLU()),
                ]
            )
        )
        self.fc = nn.Sequential(
            OrderedDict(
                [
                    ("f6", nn.Linear(120, 84)),
                    ("relu6", nn.ReLU()),
                    ("f7", nn.Linear(84, 10)),
                    ("sig7", nn.LogSoftmax(dim=-1)),
                ]
            )
        )

    def forward(self, x):
        output = self.convnet(x)
        output = output.view(x.size(0), -1)
        return self.fc(output)
