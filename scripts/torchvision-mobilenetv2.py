#!/usr/bin/python3
"""
The reference for the zoo's `mobilenetv2` (src/models/zoo.ts), printed as JSON on stdout: torchvision's
mobilenet_v2(num_classes=10) at width 1.0, adapted to 3x32x32 as the usual CIFAR variants are (stride 1 in the stem
and in the first 24-channel block), with its parameter count, and for every Conv2d in order its weight shape, stride,
groups and output shape on a 1x3x32x32 input, and the classifier's weight shape.
Needs Debian's python3-torch and python3-torchvision (scripts/ensure-test-deps.sh); run with /usr/bin/python3.
Usage: /usr/bin/python3 scripts/torchvision-mobilenetv2.py
"""
import json

import torch
import torchvision

torch.set_num_threads(1)
m = torchvision.models.mobilenet_v2(num_classes=10, width_mult=1.0)
m.features[0][0].stride = (1, 1)           # stem: stride 2 -> 1
m.features[2].conv[1][0].stride = (1, 1)   # first block of the 24-channel stage (its depthwise conv): 2 -> 1
m.eval()

convs = []
hooks = []
for mod in m.modules():
    if isinstance(mod, torch.nn.Conv2d):
        def hook(mod, inp, out):
            convs.append({'weight': list(mod.weight.shape), 'stride': list(mod.stride), 'padding': list(mod.padding),
                          'groups': mod.groups, 'bias': mod.bias is not None, 'output': list(out.shape[1:])})
        hooks.append(mod.register_forward_hook(hook))
with torch.no_grad():
    m(torch.zeros(1, 3, 32, 32))
linear = [x for x in m.modules() if isinstance(x, torch.nn.Linear)]
print(json.dumps({
    'torchvision': torchvision.__version__,
    'parameters': sum(p.numel() for p in m.parameters()),
    'convs': convs,
    'linear': [list(l.weight.shape) for l in linear],
}))
