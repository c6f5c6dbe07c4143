"""Runs an exported Quant Studio package in PyTorch (the tests' side of tests/torch-export*.test.ts).

    python3 torch_run.py PACKAGE INPUTS.safetensors OUTPUTS.safetensors [--state checkpoint.pt] [--taps M1,M2,...]
        [--force VALUES.safetensors]

INPUTS holds x (float32 NCHW). Builds the model with PACKAGE/model.py build() (fake-quant evaluation mode), loads
--state (a train_qat.py checkpoint.pt) if given, and writes y (the output; the first of a tuple) and y.0, y.1, ...
(every output, in order) to OUTPUTS, plus a JSON line on stdout.
--taps: also the outputs of these submodules (e.g. the activation_post_process of every site), as tap.<module>.
--force: VALUES holds, per tapped module, the value the studio computed there (force.<module>, [N, ...]): each tap
records PyTorch's own output, then passes the studio's on, so that every op is fed the studio's inputs and a tap
differs from the studio only by that op's own numerics (no flips carried forward from earlier sites).
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
taps = sys.argv[sys.argv.index("--taps") + 1].split(",") if "--taps" in sys.argv else []
tapped = {name: [] for name in taps}
forced = sq.load_safetensors(sys.argv[sys.argv.index("--force") + 1]) if "--force" in sys.argv else None


def tap(name, out):
    tapped[name].append(out.detach())
    if forced is None:
        return None
    done = sum(t.shape[0] for t in tapped[name][:-1])
    return forced[f"force.{name}"][done:done + out.shape[0]].reshape(out.shape)


for name in taps:
    model.get_submodule(name).register_forward_hook(lambda _m, _i, out, name=name: tap(name, out))
x = sq.load_safetensors(inp)["x"]
with torch.no_grad():
    parts = [model(x[i:i + 256]) for i in range(0, x.shape[0], 256)]
parts = [p if isinstance(p, tuple) else (p,) for p in parts]
ys = [torch.cat([p[k] for p in parts]).float() for k in range(len(parts[0]))]
out = {"y": ys[0]}
for k, y in enumerate(ys):
    out[f"y.{k}"] = y
for name, parts in tapped.items():
    out[f"tap.{name}"] = torch.cat(parts).float()
sq.save_safetensors(out, outp)
print(json.dumps({"n": int(x.shape[0]), "outputs": len(ys), "modules": sum(1 for _ in model.modules())}))
