#!/usr/bin/python3
"""
PyTorch post-training static quantization of tests/fixtures/onnx/fashion_cnn.onnx over several
calibration sets, to measure how much PTQ accuracy depends on which 512 images calibrate it.
The float model is rebuilt from the ONNX initializers (BN already folded into the convs by the
export), quantized in eager mode with the same fbgemm-style per-channel qconfig as
scripts/make-onnx-fixtures.py (on qnnpack: this torch build has no fbgemm).
  /usr/bin/python3 scripts/onnx-ptq-seeds.py [SEEDS...]      (default seeds 1 2 3 4 5)
Seed s: train images randperm(60000, generator seed s)[:512]; seed 1 is the set fashion_cnn.json used.
"""
import os
import sys

import numpy as np
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper
from torch.ao.quantization import HistogramObserver, QConfig, default_per_channel_weight_observer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util  # noqa: E402

spec = importlib.util.spec_from_file_location('fixtures', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'make-onnx-fixtures.py'))
fx = importlib.util.module_from_spec(spec)
spec.loader.exec_module(fx)


class Folded(nn.Module):
    def __init__(self):
        super().__init__()
        self.quant = torch.quantization.QuantStub()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.relu1 = nn.ReLU()
        self.conv2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.relu2 = nn.ReLU()
        self.conv3 = nn.Conv2d(32, 32, 3, padding=1)
        self.add = nn.quantized.FloatFunctional()
        self.relu3 = nn.ReLU()
        self.pool = nn.MaxPool2d(2)
        self.conv4 = nn.Conv2d(32, 64, 3, padding=1)
        self.relu4 = nn.ReLU()
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(64, 10)
        self.dequant = torch.quantization.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.relu1(self.conv1(x))
        x = self.relu2(self.conv2(x))
        x = self.relu3(self.add.add(self.conv3(x), x))
        x = self.relu4(self.conv4(self.pool(x)))
        return self.dequant(self.fc(torch.flatten(self.gap(x), 1)))


def load():
    m = onnx.load(os.path.join(fx.OUT, 'fashion_cnn.onnx'))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    model = Folded().eval()
    layers = iter([model.conv1, model.conv2, model.conv3, model.conv4, model.fc])
    for n in m.graph.node:
        if n.op_type in ('Conv', 'Gemm'):
            layer = next(layers)
            layer.weight.data.copy_(torch.from_numpy(inits[n.input[1]].copy()))
            layer.bias.data.copy_(torch.from_numpy(inits[n.input[2]].copy()))
    return model


def main():
    seeds = [int(s) for s in sys.argv[1:]] or [1, 2, 3, 4, 5]
    tx = torch.from_numpy(fx.read_idx('train-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    vx = torch.from_numpy(fx.read_idx('t10k-images-idx3-ubyte.gz').astype(np.float32) / 255).unsqueeze(1)
    vy = torch.from_numpy(fx.read_idx('t10k-labels-idx1-ubyte.gz').astype(np.int64))
    print(f'float (rebuilt from the ONNX file): {fx.accuracy(load(), vx, vy):.2f}', flush=True)
    torch.backends.quantized.engine = 'fbgemm' if 'fbgemm' in torch.backends.quantized.supported_engines else 'qnnpack'
    accs = []
    for s in seeds:
        qm = load()
        torch.ao.quantization.fuse_modules(qm, [['conv1', 'relu1'], ['conv2', 'relu2'], ['conv4', 'relu4']], inplace=True)
        qm.qconfig = QConfig(activation=HistogramObserver.with_args(reduce_range=True), weight=default_per_channel_weight_observer)
        torch.ao.quantization.prepare(qm, inplace=True)
        idx = torch.randperm(len(tx), generator=torch.Generator().manual_seed(s))[:512]
        with torch.no_grad():
            for i in range(0, 512, 128):
                qm(tx[idx[i:i + 128]])
        torch.ao.quantization.convert(qm, inplace=True)
        accs.append(fx.accuracy(qm, vx, vy))
        print(f'seed {s}: PTQ ({torch.backends.quantized.engine}) acc {accs[-1]:.2f}', flush=True)
    print(f'PTQ over {len(accs)} calibration sets: mean {np.mean(accs):.3f}, min {min(accs):.2f}, max {max(accs):.2f}')


if __name__ == '__main__':
    main()
