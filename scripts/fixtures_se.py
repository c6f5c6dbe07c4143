"""
Squeeze-excitation fixtures of issue 10 (imported by make-onnx-fixtures.py; --se writes only these), 3x16x16,
10 classes, opset 13, BN folded at export, with torchvision's own SqueezeExcitation block (scale * input, the gate
as the first operand of the Mul):

  se_sigmoid.onnx      EfficientNet-style MBConv: conv + SiLU stem, depthwise conv + SiLU, SE with a ReLU squeeze and
                       a sigmoid gate (x * sigmoid(conv(relu(conv(gap(x)))))), 1x1 projection, residual Add, head
  se_hardsigmoid.onnx  MobileNetV3-style bneck: conv + Hardswish stem, 1x1 expand + ReLU, depthwise conv + ReLU, SE
                       with a hard-sigmoid gate (nn.Hardsigmoid: HardSigmoid alpha 1/6, beta 1/2), 1x1 projection,
                       residual Add, 1x1 head conv + Hardswish, head
"""
import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.ops import SqueezeExcitation


def _cbn(i, o, k=1, s=1, g=1):
    return nn.Sequential(nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), nn.BatchNorm2d(o))


class SeSigmoid(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.stem_act = _cbn(3, 16, 3), nn.SiLU()
        self.dw, self.dw_act = _cbn(16, 16, 3, 1, 16), nn.SiLU()
        self.se = SqueezeExcitation(16, 4, activation=nn.ReLU, scale_activation=nn.Sigmoid)
        self.project = _cbn(16, 16)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.stem_act(self.stem(x))
        y = self.project(self.se(self.dw_act(self.dw(x))))
        x = x + y
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


class SeHardsigmoid(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.stem_act = _cbn(3, 16, 3, 2), nn.Hardswish()
        self.expand = nn.Sequential(_cbn(16, 32), nn.ReLU())
        self.dw = nn.Sequential(_cbn(32, 32, 3, 1, 32), nn.ReLU())
        self.se = SqueezeExcitation(32, 8, activation=nn.ReLU, scale_activation=nn.Hardsigmoid)
        self.project = _cbn(32, 16)
        self.head, self.head_act = _cbn(16, 24), nn.Hardswish()
        self.fc = nn.Linear(24, 10)

    def forward(self, x):
        x = self.stem_act(self.stem(x))
        x = x + self.project(self.se(self.dw(self.expand(x))))
        x = self.head_act(self.head(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def se_fixtures(export, randomize_bn):
    """Writes both (export / randomize_bn: make-onnx-fixtures.py's)."""
    gen = torch.Generator().manual_seed(11)
    torch.manual_seed(11)
    for model, name in ((SeSigmoid(), 'se_sigmoid.onnx'), (SeHardsigmoid(), 'se_hardsigmoid.onnx')):
        randomize_bn(model, gen)
        with torch.no_grad():
            # gates that differ from channel to channel: SE biases spread so the gate is not ~0.5 everywhere
            model.se.fc2.bias.copy_(torch.randn(model.se.fc2.bias.shape, generator=gen) * 1.5)
        export(model, (3, 16, 16), name, 13, preserve_bn=False)
