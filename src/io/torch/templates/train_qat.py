"""QAT of the exported Quant Studio model with DistributedDataParallel (copied verbatim into every export).

    torchrun --nproc_per_node 2 train_qat.py --data train.safetensors --steps 100 --out qat-out
    (CPU: gloo backend; with CUDA: nccl, one GPU per process; on torch 1.13 with Python >= 3.11, e.g. Debian 12,
    run `python3 torchrun_compat.py` instead of `torchrun`, same arguments)

--data: a safetensors file with x (float32 [N, C, H, W], normalized as the studio does: see qparams.json "input") and
y (int64 [N]); for a real data set, replace load_dataset() below. Each process trains on its DistributedSampler shard;
DDP averages the gradients and broadcasts rank 0's buffers (the fake-quant scales and running ranges) every step.
Rank 0 writes OUT/checkpoint.pt (the state_dict, with every fake-quant scale) and, for the studio, OUT/weights.safetensors
+ OUT/qparams.json + OUT/studio-graph.json (npm run cli -- import-torch --checkpoint OUT --model-path DIR).
"""
import argparse
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


def load_dataset(path):
    t = sq.load_safetensors(path)
    return TensorDataset(t["x"].float(), t["y"].long())


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
    a = ap.parse_args()

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
    ddp = DistributedDataParallel(model, device_ids=[local] if cuda else None)
    data = load_dataset(a.data)
    sampler = DistributedSampler(data, num_replicas=world, rank=rank, shuffle=True, seed=a.seed)
    loader = DataLoader(data, batch_size=a.batch_size, sampler=sampler, drop_last=True)
    opt = torch.optim.SGD(ddp.parameters(), lr=a.lr, momentum=a.momentum)

    step, epoch, t0 = 0, 0, time.time()
    while step < a.steps:
        sampler.set_epoch(epoch)
        for x, y in loader:
            x, y = x.to(device), y.to(device)
            loss = F.cross_entropy(ddp(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if rank == 0 and (step % 10 == 0 or step == a.steps):
                print(f"QAT step {step}/{a.steps}: loss {loss.item():.4f} ({world} processes, {time.time() - t0:.1f} s)", flush=True)
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
