"""
The YOLO-style detection block of the ONNX fixtures (issue 14, several outputs of any shape), imported by
scripts/make-onnx-fixtures.py (--yolo): SiLU convs (Conv + BN folded at export + Sigmoid·Mul), a C2f / CSP block
(1x1 conv, channel split in two, a residual bottleneck on one half, concat of the three, 1x1 conv), and two heads
on the stride-4 feature map:
  boxes   [N, 4, 8, 8]  box regression, straight from a conv (an int32 high-precision output once quantized)
  scores  [N, 3, 8, 8]  objectness + 2 classes, sigmoid of a conv
Input 3x32x32, opset 13, dynamic batch, seeded random weights with randomized BN statistics.
"""
import torch
import torch.nn as nn


class ConvSiLU(nn.Module):
    def __init__(self, c_in, c_out, k=1, s=1):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, k, s, k // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU()

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.cv1 = ConvSiLU(c, c, 3)
        self.cv2 = ConvSiLU(c, c, 3)

    def forward(self, x):
        return x + self.cv2(self.cv1(x))


class C2f(nn.Module):
    """YOLOv8's C2f with one bottleneck: split the 1x1 conv's channels in two, run the bottleneck on the second
    half, concat all three parts."""

    def __init__(self, c_in, c_out):
        super().__init__()
        self.c = c_out // 2
        self.cv1 = ConvSiLU(c_in, 2 * self.c, 1)
        self.m = Bottleneck(self.c)
        self.cv2 = ConvSiLU(3 * self.c, c_out, 1)

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        y.append(self.m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class YoloBlock(nn.Module):
    def __init__(self, classes=2):
        super().__init__()
        self.stem = ConvSiLU(3, 16, 3, 2)
        self.c2f1 = C2f(16, 16)
        self.down = ConvSiLU(16, 32, 3, 2)
        self.c2f2 = C2f(32, 32)
        self.box = nn.Sequential(ConvSiLU(32, 32, 3), nn.Conv2d(32, 4, 1))
        self.cls = nn.Sequential(ConvSiLU(32, 32, 3), nn.Conv2d(32, 1 + classes, 1))

    def forward(self, x):
        f = self.c2f2(self.down(self.c2f1(self.stem(x))))
        return self.box(f), torch.sigmoid(self.cls(f))


def export_yolo(path, randomize_bn, check):
    """Writes the YOLO-style block to `path` (two outputs: boxes, scores)."""
    torch.manual_seed(14)
    model = YoloBlock()
    randomize_bn(model, torch.Generator().manual_seed(14))
    model.eval()
    torch.onnx.export(model, torch.randn(1, 3, 32, 32), path, opset_version=13, input_names=['input'],
                      output_names=['boxes', 'scores'],
                      dynamic_axes={'input': {0: 'N'}, 'boxes': {0: 'N'}, 'scores': {0: 'N'}}, do_constant_folding=True)
    check(path)
