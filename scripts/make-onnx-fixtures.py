#!/usr/bin/python3
"""
Writes the ONNX test fixtures of the importer (tests/fixtures/onnx/), with Debian's PyTorch 1.13 and
onnx 1.12 (apt-get install -y python3-torch python3-onnx; run with /usr/bin/python3):

  residual.onnx     conv-bn-relu-residual net, 3x16x16, opset 11, BN kept (PRESERVE export):
                    Conv (bias, groups, dilation), BatchNormalization, Relu, Clip (ReLU6), Add,
                    MaxPool (pads), AveragePool, Concat, GlobalAveragePool, Flatten, Gemm
  mobilenetv2.onnx  MobileNetV2 at width 0.5 for 3x32x32, opset 17, BN kept
  mlp.onnx          MLP on 1x28x28 (Reshape to a constant [-1, 784], Gemm, Relu), opset 14
  shuffle_split_{11,13,17}.onnx  the shape operators, 3x16x16, at opsets 11, 13 and 17: torchvision's ShuffleNetV2
                    blocks (channel shuffle Reshape/Transpose/Reshape over the batch, chunk as Slice fed by
                    Shape/Gather/Unsqueeze/Concat/Div subgraphs), torch.split into [4, 12, 8] (a 3-output Split),
                    Concat of three inputs at different scales
  shuffle_split_static.onnx  the same at opset 13 with a fixed batch of 1 (no dynamic axes)
  handmade.onnx     built with onnx.helper, opset 13: float_data initializers, Constant nodes,
                    Clip with Constant inputs, MatMul+Add, Identity, Dropout, Reshape, Concat,
                    auto_pad SAME_UPPER, AveragePool with pads and count_include_pad=1
  fashion_cnn.onnx  a CNN trained here on Fashion-MNIST (official IDX split from
                    /usr/share/datasets/fashion-mnist, 60 000 / 10 000, pixel/255), exported at
                    opset 13 (default EVAL export: BN folded into the convs), and
  fashion_cnn.json  PyTorch's float test accuracy and PyTorch's own post-training static quantization
                    accuracy (eager mode, fbgemm-style qconfig: HistogramObserver(reduce_range=True)
                    activations, per-channel symmetric qint8 min-max weights; 512 calibration images).
                    This torch build has no fbgemm, so the quantized kernels run on qnnpack.

  activations.onnx    (also alone with --activations) a MobileNetV3 / EfficientNet-style CNN on 3x16x16 using every
                    table activation, BN folded at export, opset 13: conv + Hardswish (HardSigmoid + Mul), depthwise
                    conv + SiLU (Sigmoid + Mul), LeakyReLU, PReLU (per channel), Hardtanh(-1, 1) (Clip with any
                    bounds), ReLU6, Tanh (residual Add), Sigmoid, Hardsigmoid; and
  activations17.onnx  the same model at opset 17 (HardSwish as one ONNX op)
  fashion_resnet.onnx  (only with --fashion-resnet) a small ResNet (stem + three basic blocks with identity
                    and 1x1-projection shortcuts, BN folded at export) (widths 8/16/32) trained here on 8 000
                    Fashion-MNIST training images for 1 epoch, with fashion_resnet.json (its PyTorch float test accuracy):
                    the imported ResNet-style model of the PTQ targets (AdaRound W4A8).

  se_block.onnx     squeeze-excitation block, 3x16x16, opset 13 (BN folded): Sub / Div by constants, ReduceMean
                    (keepdims 1 and 0), a hard-sigmoid gate, Mul per channel, Mul and Sub of two activations, Mul
                    by a constant (--ops-mul writes only this and ceil_pools.onnx)
  ceil_pools.onnx   3x16x16, opset 13: MaxPool ceil_mode, AveragePool count_include_pad=0, ceil_mode average
                    pools with and without padding, Concat, ReduceMean + Flatten head
  vit_tiny.onnx     (--vit writes only these three) a 2-layer ViT encoder, opset 13: scripts/transformer_fixtures.py
  vit_cls.onnx      a 2-layer ViT with a class token and a learned position table, opset 13 (vit_cls17.onnx: 17)
  yolo_block.onnx   (only with --yolo) a YOLO-style detection block with two outputs, boxes and scores
                    (scripts/onnx_fixtures_yolo.py)
  se_sigmoid.onnx, se_hardsigmoid.onnx  (also alone with --se) squeeze-excitation with a sigmoid (EfficientNet) and a
                    hard-sigmoid (MobileNetV3) gate: scripts/fixtures_se.py
  fpn.onnx, fpn_single.onnx, unet.onnx, resize_ops_{11,13}.onnx, fpn_single_{9,10}.onnx, unet_{9,10}.onnx  (also alone
                    with --dense) the FPN neck, the UNet (also at opsets 9 and 10) and the Resize / ConvTranspose
                    variants: scripts/fixtures_dense.py
  --torchvision-ops-mul DIR  only torchvision's MnasNet 0.5 and GoogLeNet at 3x32x32 into DIR (not committed;
                    check them with scripts/onnx-vs-ort.ts)

  --zoo DIR [--size S] [NAME ...]  torchvision's classification models (ZOO below: ResNet-18, MobileNetV2, MobileNetV3-Small /
                    Large, EfficientNet-B0, ShuffleNetV2 x0.5, MnasNet 0.5, GoogLeNet without aux heads, RegNetX-400MF,
                    SqueezeNet 1.1, DenseNet-121) with random seeded weights and randomized BN statistics, 10 classes,
                    at 3x32x32 (or 3xSxS: NAME_S.onnx), opset 13, into DIR (not committed: scripts/zoo-models.ts generates them into a cache
                    folder at test time; scripts/zoo-report.ts reports which import).

Every model has a dynamic batch dimension ("N"). Deterministic (seeded); training takes a few
minutes on 2 cores. Usage: /usr/bin/python3 scripts/make-onnx-fixtures.py [--skip-fashion | --fashion-resnet | --activations | --ops-mul | --yolo | --zoo DIR [NAME ...]]
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper
from fixtures_se import se_fixtures  # scripts/fixtures_se.py
from fixtures_dense import dense  # scripts/fixtures_dense.py

import transformer_fixtures

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'onnx')
DATA = '/usr/share/datasets/fashion-mnist'


def export(model, shape, name, opset, preserve_bn):
    model.eval()
    x = torch.randn(1, *shape)
    path = os.path.join(OUT, name)
    torch.onnx.export(
        model, x, path, opset_version=opset, input_names=['input'], output_names=['logits'],
        dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True,
        training=torch.onnx.TrainingMode.PRESERVE if preserve_bn else torch.onnx.TrainingMode.EVAL)
    m = onnx.load(path)
    onnx.checker.check_model(m)
    print(f'{name}: opset {opset}, {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in m.graph.node})}')
    return m


def randomize_bn(model, gen):
    """Non-trivial BN statistics and affine parameters, so that folding them is actually tested."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.8 + 0.4)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.8 + 0.6)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.2)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 16, 3, padding=1, bias=True)
        self.b1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 16, 3, padding=2, dilation=2, groups=2, bias=False)
        self.b2 = nn.BatchNorm2d(16)
        self.c3 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.b3 = nn.BatchNorm2d(16)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.avg = nn.AvgPool2d(2, stride=2)
        self.c4 = nn.Conv2d(16, 8, 1)
        self.c5 = nn.Conv2d(16, 8, 3, padding=1)
        self.fc = nn.Linear(16, 7)

    def forward(self, x):
        x = F.relu(self.b1(self.c1(x)))
        y = F.relu(self.b2(self.c2(x)))
        y = self.b3(self.c3(y))
        x = F.relu(y + x)
        x = self.pool(x)
        x = F.relu6(torch.cat([self.c4(x), self.c5(x)], 1))
        x = self.avg(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.fc(x)


class Activations(nn.Module):
    """Every table activation of the studio in a small MobileNetV3 / EfficientNet-style CNN (3x16x16, 10 classes)."""

    def __init__(self):
        super().__init__()
        cbn = lambda i, o, k=1, s=1, g=1: nn.Sequential(nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), nn.BatchNorm2d(o))
        self.stem, self.stem_act = cbn(3, 16, 3), nn.Hardswish()
        self.dw, self.dw_act = cbn(16, 16, 3, 1, 16), nn.SiLU()
        self.pw, self.pw_act = cbn(16, 24), nn.LeakyReLU(0.1)
        self.down, self.down_act = cbn(24, 24, 3, 2), nn.PReLU(24)
        self.clip, self.clip_act = cbn(24, 24), nn.Hardtanh(-1.0, 1.0)
        self.r6 = nn.Sequential(cbn(24, 24, 3, 1, 24), nn.ReLU6())
        self.tanh, self.tanh_act = cbn(24, 24), nn.Tanh()
        self.sig, self.sig_act = cbn(24, 32), nn.Sigmoid()
        self.hs, self.hs_act = cbn(32, 32), nn.Hardsigmoid()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.stem_act(self.stem(x))
        x = self.dw_act(self.dw(x))
        x = self.pw_act(self.pw(x))
        x = self.down_act(self.down(x))
        y = self.clip_act(self.clip(x))
        y = self.tanh_act(self.tanh(self.r6(y)))
        x = x + y
        x = self.hs_act(self.hs(self.sig_act(self.sig(x))))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def activations():
    gen = torch.Generator().manual_seed(3)
    torch.manual_seed(3)
    m = Activations()
    randomize_bn(m, gen)
    with torch.no_grad():
        m.down_act.weight.copy_(torch.rand(24, generator=gen) * 0.5 - 0.1)  # per-channel slopes, some negative
    export(m, (3, 16, 16), 'activations.onnx', 13, preserve_bn=False)
    export(m, (3, 16, 16), 'activations17.onnx', 17, preserve_bn=False)


def make_divisible(v, d=8):
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


class ConvBNReLU6(nn.Sequential):
    def __init__(self, i, o, k=3, s=1, g=1, act=True):
        layers = [nn.Conv2d(i, o, k, s, (k - 1) // 2, groups=g, bias=False), nn.BatchNorm2d(o)]
        if act:
            layers.append(nn.ReLU6(inplace=True))
        super().__init__(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, i, o, s, t):
        super().__init__()
        h = i * t
        self.use_res = s == 1 and i == o
        layers = [] if t == 1 else [ConvBNReLU6(i, h, 1)]
        layers += [ConvBNReLU6(h, h, 3, s, g=h), ConvBNReLU6(h, o, 1, act=False)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's MobileNetV2 (same blocks and settings) with width_mult 0.5, for 32x32 inputs: stride 1
    in the stem (final feature map 2x2), and the last channel count scaled by the width too (640, not
    1280) to keep the fixture small."""

    def __init__(self, width=0.5, classes=10):
        super().__init__()
        settings = [[1, 16, 1, 1], [6, 24, 2, 2], [6, 32, 3, 2], [6, 64, 4, 2], [6, 96, 3, 1], [6, 160, 3, 2], [6, 320, 1, 1]]
        c_in = make_divisible(32 * width)
        last = make_divisible(1280 * width)
        feats = [ConvBNReLU6(3, c_in, 3, 1)]
        for t, c, n, s in settings:
            c_out = make_divisible(c * width)
            for k in range(n):
                feats.append(InvertedResidual(c_in, c_out, s if k == 0 else 1, t))
                c_in = c_out
        feats.append(ConvBNReLU6(c_in, last, 1))
        self.features = nn.Sequential(*feats)
        self.classifier = nn.Sequential(nn.Dropout(0.2), nn.Linear(last, classes))

    def forward(self, x):
        x = self.features(x)
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return self.classifier(x)


class Mlp(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(784, 64)
        self.fc2 = nn.Linear(64, 32)
        self.fc3 = nn.Linear(32, 10)

    def forward(self, x):
        x = x.reshape(-1, 784)
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


class ShuffleSplit(nn.Module):
    """The shape operators of ShuffleNetV2 and torch.chunk / split: torchvision's own ShuffleNetV2 blocks (channel
    shuffle as Reshape/Transpose/Reshape over the batch, chunk as Slice with Shape/Gather arithmetic), a
    torch.split into three unequal parts (a multi-output Split) and a Concat of three inputs at different scales."""

    def __init__(self):
        super().__init__()
        from torchvision.models.shufflenetv2 import InvertedResidual as ShuffleBlock
        self.stem = nn.Sequential(nn.Conv2d(3, 12, 3, 1, 1, bias=False), nn.BatchNorm2d(12), nn.ReLU())
        self.down = ShuffleBlock(12, 24, 2)
        self.block = ShuffleBlock(24, 24, 1)
        self.a = nn.Conv2d(4, 8, 1)
        self.b = nn.Conv2d(12, 8, 3, padding=1)
        self.fc = nn.Linear(8 + 8 + 8, 7)

    def forward(self, x):
        x = self.block(self.down(self.stem(x)))
        p, q, r = torch.split(x, [4, 12, 8], dim=1)
        y = torch.cat([F.relu(self.a(p)), self.b(q), F.max_pool2d(r, 3, 1, 1)], 1)
        return self.fc(F.adaptive_avg_pool2d(y, 1).flatten(1))


def shuffle_split():
    torch.manual_seed(1)
    ss = ShuffleSplit()
    randomize_bn(ss, torch.Generator().manual_seed(1))
    for opset in (11, 13, 17):
        export(ss, (3, 16, 16), f'shuffle_split_{opset}.onnx', opset, preserve_bn=False)
    # the same with a fixed batch of 1 (no dynamic axes): the exporter folds the batch into the Reshape targets
    path = os.path.join(OUT, 'shuffle_split_static.onnx')
    torch.onnx.export(ss.eval(), torch.randn(1, 3, 16, 16), path, opset_version=13, input_names=['input'],
                      output_names=['logits'], do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))
    print(f'shuffle_split_static.onnx: opset 13, batch 1, {os.path.getsize(path)} bytes')


def handmade():
    rng = np.random.default_rng(7)
    f = lambda *s: (rng.standard_normal(s) * 0.3).astype(np.float32)

    def init(name, arr, raw):
        if raw:
            return numpy_helper.from_array(arr, name)
        return helper.make_tensor(name, TensorProto.FLOAT, arr.shape, arr.flatten().tolist())  # float_data

    inits = [
        init('w1', f(8, 2, 3, 3), False), init('b1', f(8), False),
        init('w2', f(8, 8, 3, 3), True),
        init('shape1', np.array([0, -1], dtype=np.int64), True),
        init('mm_w', f(8 * 4 * 4 + 8 * 4 * 4, 12), True), init('mm_b', f(12), False),
        init('g_w', f(12, 5), True), init('g_b', f(5), True),
    ]
    nodes = [
        helper.make_node('Conv', ['input', 'w1', 'b1'], ['c1'], kernel_shape=[3, 3], auto_pad='SAME_UPPER', name='conv_same'),
        helper.make_node('Constant', [], ['lo'], value=helper.make_tensor('lo', TensorProto.FLOAT, [], [0.0]), name='const_lo'),
        helper.make_node('Constant', [], ['hi'], value_float=6.0, name='const_hi'),
        helper.make_node('Clip', ['c1', 'lo', 'hi'], ['r1'], name='relu6'),
        helper.make_node('Identity', ['r1'], ['r1i'], name='ident'),
        helper.make_node('Dropout', ['r1i'], ['r1d'], name='drop'),
        helper.make_node('Conv', ['r1d', 'w2'], ['c2'], kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], name='conv_s2'),
        helper.make_node('Relu', ['c2'], ['r2'], name='relu'),
        helper.make_node('AveragePool', ['r1d'], ['p1'], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1, name='avgpool'),
        helper.make_node('Concat', ['r2', 'p1'], ['cat'], axis=1, name='concat'),
        helper.make_node('Reshape', ['cat', 'shape1'], ['flat'], name='reshape'),
        helper.make_node('MatMul', ['flat', 'mm_w'], ['mm'], name='matmul'),
        helper.make_node('Add', ['mm', 'mm_b'], ['mma'], name='matmul_bias'),
        helper.make_node('Relu', ['mma'], ['mmr'], name='relu_fc'),
        helper.make_node('Gemm', ['mmr', 'g_w', 'g_b'], ['logits'], alpha=0.5, beta=2.0, transB=0, name='gemm'),
    ]
    graph = helper.make_graph(
        nodes, 'handmade',
        [helper.make_tensor_value_info('input', TensorProto.FLOAT, ['N', 2, 8, 8])],
        [helper.make_tensor_value_info('logits', TensorProto.FLOAT, ['N', 5])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid('', 13)], producer_name='make-onnx-fixtures')
    m.ir_version = 7
    onnx.checker.check_model(m)
    path = os.path.join(OUT, 'handmade.onnx')
    onnx.save(m, path)
    print(f'handmade.onnx: opset 13, {os.path.getsize(path)} bytes')


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST

def read_idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as fh:
        data = fh.read()
    magic = int.from_bytes(data[0:4], 'big')
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(magic & 0xff)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


class FashionCnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.quantization.QuantStub()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(32)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1, bias=False)
        self.bn3 = nn.BatchNorm2d(32)
        self.add = nn.quantized.FloatFunctional()
        self.relu3 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv4 = nn.Conv2d(32, 64, 3, padding=1, bias=False)
        self.bn4 = nn.BatchNorm2d(64)
        self.relu4 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)
        self.dequant = torch.quantization.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.relu1(self.bn1(self.conv1(x)))
        x = self.relu2(self.bn2(self.conv2(x)))
        y = self.bn3(self.conv3(x))
        x = self.relu3(self.add.add(y, x))
        x = self.pool(x)
        x = self.relu4(self.bn4(self.conv4(x)))
        x = torch.flatten(self.gap(x), 1)
        return self.dequant(self.fc(x))


def accuracy(model, x, y, bs=1000):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), bs):
            correct += (model(x[i:i + bs]).argmax(1) == y[i:i + bs]).sum().item()
    return 100.0 * correct / len(x)


def fashion(epochs=3):
    torch.manual_seed(0)
    tx = torch.from_numpy(read_idx('train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    ty = torch.from_numpy(read_idx('train-labels-idx1-ubyte.gz').astype(np.int64))
    vx = torch.from_numpy(read_idx('t10k-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    vy = torch.from_numpy(read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))
    assert len(tx) == 60000 and len(vx) == 10000
    model = FashionCnn()
    bs = 128
    steps = epochs * (len(tx) // bs)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(tx))
        for i in range(len(tx) // bs):
            idx = perm[i * bs:(i + 1) * bs]
            loss = F.cross_entropy(model(tx[idx]), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        print(f'epoch {ep + 1}: loss {loss.item():.4f} test acc {accuracy(model, vx, vy):.2f} ({time.time() - t0:.0f} s)', flush=True)
    model.eval()
    float_acc = accuracy(model, vx, vy)
    export(model, (1, 28, 28), 'fashion_cnn.onnx', 13, preserve_bn=False)
    # The input preprocessing, for importers (Quant Studio reads these keys).
    path = os.path.join(OUT, 'fashion_cnn.onnx')
    m = onnx.load(path)
    for k, v in (('input_scale', repr(1 / 255)), ('input_mean', '0'), ('input_std', '1')):
        m.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    onnx.save(m, path)

    # PyTorch post-training static quantization of the same model (eager mode).
    engines = torch.backends.quantized.supported_engines
    engine = 'fbgemm' if 'fbgemm' in engines else 'qnnpack'
    torch.backends.quantized.engine = engine
    import copy
    from torch.ao.quantization import HistogramObserver, QConfig, default_per_channel_weight_observer
    qm = copy.deepcopy(model).eval()
    torch.ao.quantization.fuse_modules(qm, [['conv1', 'bn1', 'relu1'], ['conv2', 'bn2', 'relu2'], ['conv3', 'bn3'],
                                            ['conv4', 'bn4', 'relu4']], inplace=True)
    qm.qconfig = QConfig(activation=HistogramObserver.with_args(reduce_range=True),
                         weight=default_per_channel_weight_observer)
    torch.ao.quantization.prepare(qm, inplace=True)
    g = torch.Generator().manual_seed(1)
    calib = torch.randperm(len(tx), generator=g)[:512]
    with torch.no_grad():
        for i in range(0, 512, 128):
            qm(tx[calib[i:i + 128]])
    torch.ao.quantization.convert(qm, inplace=True)
    ptq_acc = accuracy(qm, vx, vy)
    info = {
        'model': 'fashion_cnn.onnx', 'opset': 13, 'data': f'{DATA} (official IDX split)', 'train_images': len(tx),
        'test_images': len(vx), 'preprocessing': 'pixel/255', 'epochs': epochs, 'optimizer': 'adam, onecycle max lr 3e-3, batch 128',
        'torch': torch.__version__, 'float_acc1': float_acc,
        'ptq': {
            'acc1': ptq_acc, 'engine': engine, 'fbgemm_available': 'fbgemm' in engines,
            'qconfig': 'QConfig(activation=HistogramObserver(reduce_range=True), weight=default_per_channel_weight_observer '
                       '(PerChannelMinMaxObserver, qint8, per_channel_symmetric)): fbgemm-style per-channel',
            'calibration_images': 512, 'calibration_set': 'train images randperm(60000, generator seed 1)[:512]',
            'mode': 'eager: fuse conv+bn(+relu), prepare, calibrate, convert',
        },
        'train_seconds': round(time.time() - t0, 1),
    }
    with open(os.path.join(OUT, 'fashion_cnn.json'), 'w') as fh:
        json.dump(info, fh, indent=2)
        fh.write('\n')
    print(json.dumps(info, indent=2))


class BasicBlock(nn.Module):
    def __init__(self, i, o, s):
        super().__init__()
        self.conv1 = nn.Conv2d(i, o, 3, stride=s, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(o)
        self.conv2 = nn.Conv2d(o, o, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(o)
        self.short = None
        if s != 1 or i != o:
            self.short = nn.Sequential(nn.Conv2d(i, o, 1, stride=s, bias=False), nn.BatchNorm2d(o))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class FashionResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.layer1 = BasicBlock(8, 8, 1)
        self.layer2 = BasicBlock(8, 16, 2)
        self.layer3 = BasicBlock(16, 32, 2)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.stem(x))))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def fashion_resnet(train_images=8000, epochs=1):
    torch.manual_seed(0)
    tx = torch.from_numpy(read_idx('train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    ty = torch.from_numpy(read_idx('train-labels-idx1-ubyte.gz').astype(np.int64))
    vx = torch.from_numpy(read_idx('t10k-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    vy = torch.from_numpy(read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))
    sub = torch.randperm(len(tx), generator=torch.Generator().manual_seed(0))[:train_images]
    tx, ty = tx[sub], ty[sub]
    model = FashionResNet()
    bs = 128
    steps = epochs * (len(tx) // bs)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=3e-3, total_steps=steps)
    t0 = time.time()
    for ep in range(epochs):
        model.train()
        perm = torch.randperm(len(tx))
        for i in range(len(tx) // bs):
            idx = perm[i * bs:(i + 1) * bs]
            loss = F.cross_entropy(model(tx[idx]), ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        print(f'epoch {ep + 1}: loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
    model.eval()
    float_acc = accuracy(model, vx, vy)
    export(model, (1, 28, 28), 'fashion_resnet.onnx', 13, preserve_bn=False)
    path = os.path.join(OUT, 'fashion_resnet.onnx')
    m = onnx.load(path)
    for k, v in (('input_scale', repr(1 / 255)), ('input_mean', '0'), ('input_std', '1')):
        m.metadata_props.append(onnx.StringStringEntryProto(key=k, value=v))
    onnx.save(m, path)
    info = {
        'model': 'fashion_resnet.onnx', 'opset': 13, 'data': f'{DATA} (official IDX split)',
        'train_images': train_images, 'train_subset': 'randperm(60000, generator seed 0)[:N]', 'test_images': len(vx),
        'preprocessing': 'pixel/255', 'epochs': epochs, 'optimizer': 'adam, onecycle max lr 3e-3, batch 128',
        'torch': torch.__version__, 'float_acc1': float_acc, 'train_seconds': round(time.time() - t0, 1),
    }
    with open(os.path.join(OUT, 'fashion_resnet.json'), 'w') as fh:
        json.dump(info, fh, indent=2)
        fh.write('\n')
    print(json.dumps(info, indent=2))



# ---- issue 10: Mul / Sub / Div, ReduceMean, ceil_mode and count_include_pad pools (--ops-mul: only these) ----

class SeBlock(nn.Module):
    """Squeeze-excitation with a hard-sigmoid gate made of ops the studio had before (Add folded into the conv
    bias, Clip, Div), a written-out hard-swish (Add of a scalar no bias takes), Sub / Div by constants at the
    input, Mul and Sub of two activations, Mul by a constant,
    ReduceMean over H, W with keepdims 1 (the SE squeeze) and 0 (the head, MnasNet's form)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 16, 3, padding=1)
        self.bn = nn.BatchNorm2d(16)
        self.se1 = nn.Conv2d(16, 4, 1)
        self.se2 = nn.Conv2d(4, 16, 1)
        self.c2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.c3 = nn.Conv2d(16, 16, 1)
        self.fc = nn.Linear(16, 5)

    def forward(self, x):
        x = (x - 0.5) / 0.25
        x = F.relu(self.bn(self.stem(x)))
        s = x.mean((2, 3), keepdim=True)
        s = F.relu(self.se1(s))
        s = F.relu6(self.se2(s) + 3) / 6
        x = x * s
        y = self.c2(x)
        y = y * F.relu6(y + 3) / 6    # hard-swish written out: y is read twice, so + 3 joins no bias
        z = F.relu(self.c3(x))
        x = y * z - y
        x = x * 0.5
        return self.fc(x.mean((2, 3)))


class CeilPools(nn.Module):
    """GoogLeNet's ceil-mode max pools (3x3 s2, and 3x3 s1 p1 in an inception-style branch), an average pool with
    count_include_pad=False, ceil-mode average pools with (exported as Pad + AveragePool) and without padding, where
    the last windows overhang the input; ReduceMean keepdims=1 + Flatten head."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.p1 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.p2 = nn.MaxPool2d(3, 1, 1, ceil_mode=True)
        self.p3 = nn.AvgPool2d(3, 2, 1, count_include_pad=False)
        self.c3 = nn.Conv2d(16, 12, 1)
        self.p4 = nn.AvgPool2d(3, 2, 1, ceil_mode=True)
        self.p5 = nn.AvgPool2d(2, 2, ceil_mode=True)
        self.fc = nn.Linear(12, 6)

    def forward(self, x):
        x = self.p1(F.relu(self.bn1(self.c1(x))))   # 16 -> 8 (floor mode: 7)
        y = F.relu(self.c2(x))
        x = torch.cat([y, self.p2(y)], 1)
        x = self.p3(x)                               # 8 -> 4
        x = F.relu(self.c3(x))
        x = self.p5(self.p4(x))                      # 4 -> 3 -> 2 (floor mode: 2 -> 1)
        return self.fc(torch.flatten(x.mean((2, 3), keepdim=True), 1))


def torchvision_ops_mul(out_dir):
    """torchvision's MnasNet 0.5 (ReduceMean head) and GoogLeNet (ceil-mode max pools, no aux heads) at 3x32x32,
    10 classes, random weights with non-trivial BN statistics, opset 13 (BN folded), into out_dir (large: not
    committed; scripts/onnx-vs-ort.ts checks them)."""
    import torchvision
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    models = {
        'mnasnet0_5': torchvision.models.mnasnet0_5(num_classes=10),
        'googlenet': torchvision.models.googlenet(num_classes=10, aux_logits=False, init_weights=True),
    }
    for name, model in models.items():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
        randomize_bn(model, gen)
        model.eval()
        path = os.path.join(out_dir, f'{name}.onnx')
        torch.onnx.export(model, torch.randn(1, 3, 32, 32), path, opset_version=13, input_names=['input'], output_names=['logits'],
                          dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True)
        m = onnx.load(path)
        onnx.checker.check_model(m)
        print(f'{path}: {os.path.getsize(path)} bytes, ops {sorted({n.op_type for n in m.graph.node})}')


def ops_mul():
    gen = torch.Generator().manual_seed(10)
    torch.manual_seed(10)
    for model, name in ((SeBlock(), 'se_block.onnx'), (CeilPools(), 'ceil_pools.onnx')):
        randomize_bn(model, gen)
        export(model, (3, 16, 16), name, 13, preserve_bn=False)
# ---------------------------------------------------------------------------------------------
# torchvision's classification zoo at 3x32x32 (generated at test time into a cache folder, not committed)

ZOO = {
    'resnet18': lambda tv: tv.resnet18(num_classes=10),
    'mobilenet_v2': lambda tv: tv.mobilenet_v2(num_classes=10),
    'mobilenet_v3_small': lambda tv: tv.mobilenet_v3_small(num_classes=10),
    'mobilenet_v3_large': lambda tv: tv.mobilenet_v3_large(num_classes=10),
    'efficientnet_b0': lambda tv: tv.efficientnet_b0(num_classes=10),
    'shufflenet_v2_x0_5': lambda tv: tv.shufflenet_v2_x0_5(num_classes=10),
    'mnasnet0_5': lambda tv: tv.mnasnet0_5(num_classes=10),
    'googlenet': lambda tv: tv.googlenet(num_classes=10, aux_logits=False, init_weights=True, transform_input=False),
    'regnet_x_400mf': lambda tv: tv.regnet_x_400mf(num_classes=10),
    'squeezenet1_1': lambda tv: tv.squeezenet1_1(num_classes=10),
    'densenet121': lambda tv: tv.densenet121(num_classes=10),
}


def zoo(out, names, size=32):
    """Exports torchvision models (random weights, seeded, BN statistics randomized so that folding them is
    tested) at 3xSIZExSIZE, opset 13, dynamic batch, default EVAL export, to OUT/<name>.onnx (32) or
    OUT/<name>_<size>.onnx."""
    import torchvision.models as tv
    os.makedirs(out, exist_ok=True)
    for name in names:
        if name not in ZOO:
            sys.exit(f'unknown zoo model {name} (known: {", ".join(ZOO)})')
        torch.manual_seed(0)
        model = ZOO[name](tv)
        randomize_bn(model, torch.Generator().manual_seed(0))
        model.eval()
        path = os.path.join(out, f'{name}.onnx' if size == 32 else f'{name}_{size}.onnx')
        tmp = path + '.tmp'
        torch.onnx.export(model, torch.randn(1, 3, size, size), tmp, opset_version=13, input_names=['input'],
                          output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True)
        os.replace(tmp, path)  # complete files only: a test run that is killed leaves no half-written model
        print(f'{os.path.basename(path)}: {os.path.getsize(path)} bytes', flush=True)


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    if '--zoo-finetuned' in sys.argv:  # the zoo briefly fine-tuned, for the quantized flow (zoo_finetune.py)
        return __import__('zoo_finetune').main(sys.argv, ZOO)
    if '--zoo' in sys.argv:
        i = sys.argv.index('--zoo')
        size = int(sys.argv[sys.argv.index('--size') + 1]) if '--size' in sys.argv else 32
        rest = [a for a in sys.argv[i + 2:] if not a.startswith('--') and a != str(size)]
        zoo(sys.argv[i + 1], rest or list(ZOO), size)
        return
    if '--fashion-resnet' in sys.argv:
        fashion_resnet()
        return
    if '--ops-mul' in sys.argv:
        ops_mul()
        return
    if '--torchvision-ops-mul' in sys.argv:
        torchvision_ops_mul(sys.argv[sys.argv.index('--torchvision-ops-mul') + 1])
        return
    if '--activations' in sys.argv:
        activations()
        return
    if '--vit' in sys.argv:
        transformer_fixtures.vit(export)
        return transformer_fixtures.vit_cls(export)
    if '--yolo' in sys.argv:  # yolo_block.onnx: two outputs (scripts/onnx_fixtures_yolo.py)
        from onnx_fixtures_yolo import export_yolo
        export_yolo(os.path.join(OUT, 'yolo_block.onnx'), randomize_bn, lambda p: onnx.checker.check_model(onnx.load(p)))
        return
    if '--se' in sys.argv:
        return se_fixtures(export, randomize_bn)
    if '--dense' in sys.argv:
        return dense(export, randomize_bn, OUT)
    gen = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    r = Residual()
    randomize_bn(r, gen)
    export(r, (3, 16, 16), 'residual.onnx', 11, preserve_bn=True)
    mb = MobileNetV2(0.5)
    randomize_bn(mb, gen)
    export(mb, (3, 32, 32), 'mobilenetv2.onnx', 17, preserve_bn=True)
    export(Mlp(), (1, 28, 28), 'mlp.onnx', 14, preserve_bn=False)
    shuffle_split()
    handmade()
    ops_mul()
    activations()
    transformer_fixtures.vit(export)
    transformer_fixtures.vit_cls(export)
    se_fixtures(export, randomize_bn)
    dense(export, randomize_bn, OUT)
    if '--skip-fashion' not in sys.argv:
        fashion()


if __name__ == '__main__':
    main()
