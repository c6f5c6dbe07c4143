"""A few QAT steps on an exported Quant Studio package in one process (the tests' short round trip; train_qat.py is
the real one, under torchrun).

    python3 torch_qat_steps.py PACKAGE INPUTS.safetensors OUT_DIR STEPS

INPUTS holds x (float32 NCHW) and labels (int64). build(qat=True), STEPS of SGD (lr 0.05, cross entropy, the whole
batch), studio_quant.save_checkpoint into OUT_DIR, then OUT_DIR/outputs.safetensors: y, the trained model in
fake-quant evaluation on x.
"""
import importlib.util
import os
import sys

import torch
import torch.nn.functional as F

pkg, inp, out, steps = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
torch.manual_seed(0)
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("model", os.path.join(pkg, "model.py"))
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
sq = sys.modules["studio_quant"]
t = sq.load_safetensors(inp)
x, labels = t["x"], t["labels"]
model = mod.build(qat=True)
opt = torch.optim.SGD(model.parameters(), lr=0.05)
for step in range(steps):
    opt.zero_grad()
    loss = F.cross_entropy(model(x), labels)
    loss.backward()
    opt.step()
sq.save_checkpoint(model, pkg, out)
sq.set_mode(model, False)
with torch.no_grad():
    y = model(x)
sq.save_safetensors({"y": y.float()}, os.path.join(out, "outputs.safetensors"))
print(f"loss {loss.item():.4f}")
