"""
Dense-prediction fixtures of the importer (issue 14), written by make-onnx-fixtures.py (--dense writes only these):

  fpn.onnx          FPN-style neck on 3x32x32, opset 13, BN folded at export: a backbone of three stride-2 stages
                    (16x16x16, 32x8x8, 48x4x4), lateral 1x1 convs to 16 channels, top-down nearest upsampling x2
                    (Resize, asymmetric / floor) + Add, 3x3 output convs; three outputs p2 [16, 16, 16],
                    p3 [16, 8, 8], p4 [16, 4, 4]
  fpn_single.onnx   the same neck with one output: p2 + the upsampled p3 and p4 (nearest x2 / x4, by sizes from a
                    Shape subgraph), so the whole neck runs where several outputs are not supported
  unet.onnx         UNet-style encoder-decoder on 3x32x32, opset 13, BN kept (PRESERVE export): encoder convs +
                    max pools, decoder ConvTranspose (k2 s2; k3 s2 p1 output_padding 1) + BN + ReLU, skip Concat,
                    a bottleneck side branch upsampled x4 by bilinear Resize (align_corners=False) and added,
                    a 1x1 head giving a 2-channel mask [2, 32, 32]
  fpn_single_{9,10}.onnx, unet_{9,10}.onnx  the same two models at opsets 9 and 10 (Upsample-9 / Resize-10 with a
                    scales input, Slice-1 / Slice-10, MaxPool-8 / MaxPool-10): the pre-11 operator forms
  resize_ops_{11,13}.onnx  the Resize / ConvTranspose variants on 4x8x8, each brought to 16x16 (nearest by size, a
                    Shape subgraph) and concatenated: nearest x2 (scale), nearest to 11x13, bilinear align_corners
                    True / False x2, bilinear to 11x13 then 16x16, bilinear x0.5 (downsampling), ConvTranspose k3
                    s2 p1 output_padding 1 groups 2, ConvTranspose k3 stride (2, 1) pad 2 dilation 2
                    output_padding (1, 0)
"""
import os

import torch
import torch.nn as nn
import torch.nn.functional as F


def _cbr(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Fpn(nn.Module):
    def __init__(self, single=False):
        super().__init__()
        self.single = single
        self.s1 = nn.Sequential(_cbr(3, 16, 2), _cbr(16, 16))
        self.s2 = _cbr(16, 32, 2)
        self.s3 = _cbr(32, 48, 2)
        self.lat = nn.ModuleList([nn.Conv2d(c, 16, 1) for c in (16, 32, 48)])
        self.out = nn.ModuleList([nn.Conv2d(16, 16, 3, padding=1) for _ in range(3)])

    def forward(self, x):
        c2 = self.s1(x)
        c3 = self.s2(c2)
        c4 = self.s3(c3)
        t4 = self.lat[2](c4)
        t3 = self.lat[1](c3) + F.interpolate(t4, scale_factor=2, mode='nearest')
        t2 = self.lat[0](c2) + F.interpolate(t3, scale_factor=2, mode='nearest')
        p2, p3, p4 = self.out[0](t2), self.out[1](t3), self.out[2](t4)
        if self.single:
            size = p2.shape[-2:]
            return p2 + F.interpolate(p3, size=size, mode='nearest') + F.interpolate(p4, size=size, mode='nearest')
        return p2, p3, p4


class UNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.e1 = _cbr(3, 8)
        self.e2 = _cbr(8, 16)
        self.b = _cbr(16, 32)
        self.up2 = nn.Sequential(nn.ConvTranspose2d(32, 16, 2, stride=2, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.d2 = _cbr(32, 16)
        self.up1 = nn.Sequential(nn.ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.d1 = _cbr(16, 8)
        self.side = nn.Conv2d(32, 8, 1)
        self.head = nn.Conv2d(8, 2, 1)

    def forward(self, x):
        e1 = self.e1(x)
        e2 = self.e2(F.max_pool2d(e1, 2))
        b = self.b(F.max_pool2d(e2, 2))
        d2 = self.d2(torch.cat([self.up2(b), e2], 1))
        d1 = self.d1(torch.cat([self.up1(d2), e1], 1))
        side = F.interpolate(self.side(b), scale_factor=4, mode='bilinear', align_corners=False)
        return self.head(d1 + side)


class ResizeOps(nn.Module):
    def __init__(self):
        super().__init__()
        self.ct1 = nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.ct2 = nn.ConvTranspose2d(4, 4, 3, stride=(2, 1), padding=2, dilation=2, output_padding=(1, 0))

    def forward(self, x):
        def up(y, mode='nearest', **kw):
            return F.interpolate(y, size=(16, 16), mode=mode, **kw)
        ys = [
            F.interpolate(x, scale_factor=2, mode='nearest'),
            up(F.interpolate(x, size=(11, 13), mode='nearest')),
            F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=True),
            F.interpolate(x, scale_factor=2, mode='bilinear', align_corners=False),
            up(F.interpolate(x, size=(11, 13), mode='bilinear', align_corners=False), 'bilinear', align_corners=True),
            up(F.interpolate(x, scale_factor=0.5, mode='bilinear', align_corners=False)),
            self.ct1(x),
            up(self.ct2(x)),
        ]
        return torch.cat(ys, 1)


def dense(export, randomize_bn, out_dir):
    gen = torch.Generator().manual_seed(14)
    torch.manual_seed(14)
    fpn = Fpn()
    randomize_bn(fpn, gen)
    path = os.path.join(out_dir, 'fpn.onnx')
    fpn.eval()
    names = ['p2', 'p3', 'p4']
    torch.onnx.export(fpn, torch.randn(1, 3, 32, 32), path, opset_version=13, input_names=['input'], output_names=names,
                      dynamic_axes={'input': {0: 'N'}, **{k: {0: 'N'} for k in names}}, do_constant_folding=True)
    print(f'fpn.onnx: {os.path.getsize(path)} bytes')
    single = Fpn(single=True)
    single.load_state_dict(fpn.state_dict())
    export(single, (3, 32, 32), 'fpn_single.onnx', 13, preserve_bn=False)
    unet = UNet()
    randomize_bn(unet, gen)
    export(unet, (3, 32, 32), 'unet.onnx', 13, preserve_bn=True)
    ops = ResizeOps()
    export(ops, (4, 8, 8), 'resize_ops_11.onnx', 11, preserve_bn=False)
    export(ops, (4, 8, 8), 'resize_ops_13.onnx', 13, preserve_bn=False)
    # after the others, so that their random draws (and bytes) stay as they were
    for opset in (9, 10):
        export(single, (3, 32, 32), f'fpn_single_{opset}.onnx', opset, preserve_bn=False)
        export(unet, (3, 32, 32), f'unet_{opset}.onnx', opset, preserve_bn=True)
