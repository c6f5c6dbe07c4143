"""QAT of the exported Quant Studio model with DistributedDataParallel (copied verbatim into every export).

    torchrun --nproc_per_node 2 train_qat.py --data train.safetensors --steps 100 --out qat-out
    (CPU: gloo backend; with CUDA: nccl, one GPU per process; on torch 1.13 with Python >= 3.11, e.g. Debian 12,
    run `python3 torchrun_compat.py` instead of `torchrun`, same arguments)

--data: a safetensors file with x (float32 [N, C, H, W], normalized as the studio does: see qparams.json "input") and
y (int64 [N]); for a real data set, replace load_dataset() below.
--distill: QAT by distillation, no labels needed (y may be absent): the teacher is the same model with fake quant off
(the float model), loss = the sum over the outputs of MSE(student, teacher), as the studio's distillation. A model
with several outputs, or whose output is not class scores (qparams.json "outputs"), always distills. Each process trains on its DistributedSampler shard;
DDP averages the gradients and broadcasts rank 0's buffers (the fake-quant scales and running ranges) every step.
Rank 0 writes OUT/checkpoint.pt (the state_dict, with every fake-quant scale) and, for the studio, OUT/weights.safetensors
+ OUT/qparams.json + OUT/studio-graph.json (npm run cli -- import-torch --checkpoint OUT --model-path DIR).
"""
import argparse
import copy
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import studio_quant as sq  # noqa: E402
from model import build  # noqa: E402


def load_dataset(path, labels):
    t = sq.load_safetensors(path)
    if not labels:
        return TensorDataset(t["x"].float())
    if "y" not in t:
        raise SystemExit(f"{path}: no labels y [N] int64; train by distillation (--distill) or add them")
    return TensorDataset(t["x"].float(), t["y"].long())


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def needs_distillation():
    outs = sq.read_qparams(HERE).get("outputs") or []
    return len(outs) > 1 or any(not o["class_scores"] for o in outs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="safetensors file with x [N,C,H,W] float32 and y [N] int64")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--steps", type=int, default=100, help="optimizer steps (each process: one batch per step)")
    ap.add_argument("--batch-size", type=int, default=64, help="per process")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--freeze-observers", action="store_true", help="keep the exported activation scales fixed")
    ap.add_argument("--distill", action="store_true", help="distill from the float model (no labels needed)")
    a = ap.parse_args()
    distill = a.distill or needs_distillation()

    cuda = torch.cuda.is_available()
    dist.init_process_group("nccl" if cuda else "gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    local = int(os.environ.get("LOCAL_RANK", 0))
    device = torch.device("cuda", local) if cuda else torch.device("cpu")
    if cuda:
        torch.cuda.set_device(device)
    torch.manual_seed(a.seed)

    model = build(qat=True).to(device)
    if a.freeze_observers:
        for m in model.modules():
            if isinstance(m, sq.StudioFakeQuantize) and not m.is_weight:
                m.disable_observer()
    teacher = None
    if distill:
        # the float model: the exported weights, fake quant off, fixed
        teacher = copy.deepcopy(model).eval()
        teacher.apply(torch.ao.quantization.disable_fake_quant)
        teacher.apply(torch.ao.quantization.disable_observer)
        for p in teacher.parameters():
            p.requires_grad_(False)
    ddp = DistributedDataParallel(model, device_ids=[local] if cuda else None)
    data = load_dataset(a.data, labels=not distill)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=a.seed)
    loader = DataLoader(data, batch_size=a.batch_size, sampler=sampler, drop_last=True)
    opt = torch.optim.SGD(ddp.parameters(), lr=a.lr, momentum=a.momentum)

    step, epoch, t0 = 0, 0, time.time()
    while step < a.steps:
        sampler.set_epoch(epoch)
        for batch in loader:
            x = batch[0].to(device)
            if teacher is not None:
                with torch.no_grad():
                    want = as_tuple(teacher(x))
                loss = sum(F.mse_loss(s, t) for s, t in zip(as_tuple(ddp(x)), want))
            else:
                loss = F.cross_entropy(ddp(x), batch[1].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if rank == 0 and (step % 10 == 0 or step == a.steps):
                kind = "distillation " if teacher is not None else ""
                print(f"QAT step {step}/{a.steps}: {kind}loss {loss.item():.4f} ({world} processes, {time.time() - t0:.1f} s)", flush=True)
            if step >= a.steps:
                break
        epoch += 1

    if rank == 0:
        os.makedirs(a.out, exist_ok=True)
        model.eval()
        sq.refresh_weight_scales(model)
        torch.save(model.state_dict(), os.path.join(a.out, "checkpoint.pt"))
        sq.save_checkpoint(model, HERE, a.out)
        print(f"Saved {a.out}/checkpoint.pt and the studio checkpoint (weights.safetensors, qparams.json)", flush=True)
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
