#!/usr/bin/python3
"""
cnn-small (src/models/zoo.ts: three conv+BN+ReLU blocks, the third added to the second, global average pooling,
linear) trained in PyTorch 1.13 and written as a Quant Studio float checkpoint (src/io/checkpoint.ts format, the
studio's parameter names), for measurements that need a well-trained cnn-small faster than the studio's software
adapter trains one. The studio then loads it as its own (`calib --model cnn-small --model-path DIR`).
Recipe: Adam, one-cycle (max lr 5e-3), batch 128, input pixel/255, official IDX split, seed 0.
  /usr/bin/python3 scripts/torch-cnn-small.py DIR [EPOCHS] [TRAIN_IMAGES]      (default 1 epoch, 60000 images)
Prints the PyTorch test accuracy; writes DIR/float-checkpoint and DIR/torch-float.json.
"""
import gzip
import json
import os
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

DATA = '/usr/share/datasets/fashion-mnist'


def read_idx(name):
    with gzip.open(os.path.join(DATA, name), 'rb') as fh:
        data = fh.read()
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(data[3])]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * len(dims)).reshape(dims)


class Block(nn.Module):
    def __init__(self, i, o, stride=1):
        super().__init__()
        self.conv = nn.Conv2d(i, o, 3, stride=stride, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(o)  # eps 1e-5, momentum 0.1: the studio's batchnorm2d

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))


class CnnSmall(nn.Module):
    def __init__(self):
        super().__init__()
        self.block1 = Block(1, 24)
        self.block2 = Block(24, 48, 2)
        self.block3 = Block(48, 48)
        self.fc = nn.Linear(48, 10)

    def forward(self, x):
        prev = self.block2(self.block1(x))
        x = self.block3(prev) + prev
        return self.fc(x.mean((2, 3)))


def write_checkpoint(path, params, meta):
    tensors, payload, offset = [], [], 0
    for name, t in params.items():
        a = t.detach().cpu().numpy().astype('<f4')
        tensors.append({'name': name, 'shape': list(a.shape), 'offset': offset})
        payload.append(a.ravel())
        offset += a.size
    header = json.dumps({'model': 'cnn-small', 'stage': 'float', 'meta': meta, 'tensors': tensors}).encode()
    start = (12 + len(header) + 3) // 4 * 4
    with open(path, 'wb') as fh:
        fh.write(b'QSCK' + struct.pack('<II', 1, len(header)) + header + b'\0' * (start - 12 - len(header)))
        fh.write(np.concatenate(payload).tobytes())


def main():
    out = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 60000
    torch.manual_seed(0)
    torch.set_num_threads(1)  # the machine is shared
    x = torch.tensor(read_idx('train-images-idx3-ubyte.gz'), dtype=torch.float32).unsqueeze(1) / 255
    y = torch.tensor(read_idx('train-labels-idx1-ubyte.gz'), dtype=torch.long)
    xt = torch.tensor(read_idx('t10k-images-idx3-ubyte.gz'), dtype=torch.float32).unsqueeze(1) / 255
    yt = torch.tensor(read_idx('t10k-labels-idx1-ubyte.gz'), dtype=torch.long)
    keep = torch.randperm(len(x))[:n]
    x, y = x[keep], y[keep]
    model = CnnSmall()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    steps = epochs * ((n + 127) // 128)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=5e-3, total_steps=steps)
    t0 = time.time()
    for e in range(epochs):
        model.train()
        perm = torch.randperm(n)
        for i in range(0, n, 128):
            idx = perm[i:i + 128]
            loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            if (i // 128) % 25 == 24:
                print(f'  {i + len(idx)}/{n} images, loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
        print(f'epoch {e + 1}: loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
    model.eval()
    with torch.no_grad():
        acc = 100.0 * sum((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item() for i in range(0, len(xt), 1000)) / len(xt)
    print(f'PyTorch float test accuracy: {acc:.2f} % (10000 test images)')
    params = {}
    for b in ('block1', 'block2', 'block3'):
        m = getattr(model, b)
        params[f'{b}.conv.weight'] = m.conv.weight
        params[f'{b}.bn.weight'] = m.bn.weight
        params[f'{b}.bn.bias'] = m.bn.bias
        params[f'{b}.bn.running_mean'] = m.bn.running_mean
        params[f'{b}.bn.running_var'] = m.bn.running_var
    params['fc.weight'] = model.fc.weight
    params['fc.bias'] = model.fc.bias
    os.makedirs(out, exist_ok=True)
    write_checkpoint(os.path.join(out, 'float-checkpoint'), params, {'epochsDone': epochs, 'seed': 0, 'normalization': 'pixel/255', 'trainedBy': 'pytorch'})
    # The float model as ONNX too (batch dimension free): scripts/qdq-fidelity.mjs compares calibrations with it.
    torch.onnx.export(model, xt[:1], os.path.join(out, 'float.onnx'), opset_version=13, input_names=['input'], output_names=['logits'],
                      dynamic_axes={'input': {0: 'batch'}, 'logits': {0: 'batch'}})
    with open(os.path.join(out, 'torch-float.json'), 'w') as fh:
        json.dump({'acc1': acc, 'epochs': epochs, 'train_images': n, 'test_images': len(xt), 'seconds': time.time() - t0, 'torch': torch.__version__}, fh, indent=1)


if __name__ == '__main__':
    main()
