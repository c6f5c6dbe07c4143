"""torchvision's zoo models (make-onnx-fixtures.py's ZOO), briefly fine-tuned in float before export, for the
quantized flow (scripts/zoo-quant.ts). With random weights most of them compute an output that does not depend on
the input at 3x32x32 (the signal dies in the random, batch-normed stack; measured in docs/zoo.md), and then
"top-1 agreement" means nothing. A few hundred Adam steps on real images (Fashion-MNIST tinted to 3x32x32 exactly
as scripts/fashion-as-cifar10.ts does it, from the IDX training split) with batch norm in train mode, then batch-norm statistics
re-estimated on those images, give every model an input-dependent output, as a user's trained model has.
Called by make-onnx-fixtures.py --zoo-finetuned DIR [--steps N] [NAME ...]; writes DIR/<name>_ft.onnx (3x32x32,
opset 13, dynamic batch, default EVAL export with the batch norms folded by the exporter)."""
import gzip
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

IDX = '/usr/share/datasets/fashion-mnist'


def read_idx(name):
    path = os.path.join(IDX, name)
    opener = gzip.open if os.path.exists(path + '.gz') else open
    with opener(path + '.gz' if os.path.exists(path + '.gz') else path, 'rb') as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def tinted(images):
    """N x 28 x 28 grey -> N x 3 x 32 x 32 in [0, 1]: padded by 2, channels p, 3p/4, p/2 (scripts/fashion-as-cifar10.ts)."""
    out = np.zeros((images.shape[0], 3, 32, 32), dtype=np.float32)
    for c, t in enumerate((1.0, 0.75, 0.5)):
        out[:, c, 2:30, 2:30] = np.floor(images.astype(np.float64) * t + 0.5)  # Math.round of non-negative values
    return torch.from_numpy(out / 255.0)


def recalibrate_bn(model, x, batch):
    """Batch-norm running statistics as the cumulative average over the training images seen (no gradient): after a
    short fine-tune the momentum-0.1 running averages still hold much of their initial value (mean 0, variance 1),
    and in EVAL the model then computes nearly the same output for every input."""
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        for s in range(0, min(len(x), 16 * batch), batch):
            model(x[s:s + batch])


def finetune(out, zoo, names, steps):
    import time
    import torchvision.models as tv
    batch = 32
    torch.set_num_threads(1)  # on a loaded machine, threads that wait on each other cost more than they bring
    # the first images of a seed-0 permutation of the training split (never the test split the flow evaluates on)
    x_idx, y_idx = read_idx('train-images-idx3-ubyte'), read_idx('train-labels-idx1-ubyte')
    pick = np.random.default_rng(0).permutation(x_idx.shape[0])[:max(1, steps) * batch]
    x_all = tinted(x_idx[pick])
    y_all = torch.from_numpy(y_idx[pick].astype(np.int64))
    os.makedirs(out, exist_ok=True)
    for name in names:
        if name not in zoo:
            sys.exit(f'unknown zoo model {name} (known: {", ".join(zoo)})')
        torch.manual_seed(0)
        model = zoo[name](tv)
        t0 = time.time()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        model.train()
        losses = []
        for s in range(steps):
            loss = F.cross_entropy(model(x_all[s * batch:(s + 1) * batch]), y_all[s * batch:(s + 1) * batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        recalibrate_bn(model, x_all, batch)
        model.eval()
        path = os.path.join(out, f'{name}_ft.onnx')
        tmp = path + '.tmp'
        torch.onnx.export(model, torch.randn(1, 3, 32, 32), tmp, opset_version=13, input_names=['input'],
                          output_names=['logits'], dynamic_axes={'input': {0: 'N'}, 'logits': {0: 'N'}}, do_constant_folding=True)
        os.replace(tmp, path)  # complete files only
        first, last = np.mean(losses[:10]), np.mean(losses[-10:])
        print(f'{os.path.basename(path)}: {steps} steps of {batch}, loss {first:.3f} -> {last:.3f}, {os.path.getsize(path)} bytes, {time.time() - t0:.0f} s', flush=True)


def main(argv, zoo):
    i = argv.index('--zoo-finetuned')
    steps = int(argv[argv.index('--steps') + 1]) if '--steps' in argv else 200
    rest = [a for j, a in enumerate(argv[i + 2:], i + 2) if not a.startswith('--') and argv[j - 1] != '--steps']
    finetune(argv[i + 1], zoo, rest or list(zoo), steps)
