"""Runs an exported Quant Studio package in PyTorch (the tests' side of tests/torch-export*.test.ts).

    python3 torch_run.py PACKAGE INPUTS.safetensors OUTPUTS.safetensors [--state checkpoint.pt]

INPUTS holds x (float32 NCHW). Builds the model with PACKAGE/model.py build() (fake-quant evaluation mode), loads
--state (a train_qat.py checkpoint.pt) if given, and writes y (the outputs) to OUTPUTS, plus a JSON line on stdout.
"""
import importlib.util
import json
import os
import sys

import torch

pkg, inp, outp = sys.argv[1:4]
state = sys.argv[sys.argv.index("--state") + 1] if "--state" in sys.argv else None
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("model", os.path.join(pkg, "model.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
sq = sys.modules["studio_quant"]
model = mod.build()
if state:
    model.load_state_dict(torch.load(state))
model.eval()
x = sq.load_safetensors(inp)["x"]
with torch.no_grad():
    y = torch.cat([model(x[i:i + 256]) for i in range(0, x.shape[0], 256)])
sq.save_safetensors({"y": y.float()}, outp)
print(json.dumps({"n": int(x.shape[0]), "modules": sum(1 for _ in model.modules())}))
