"""torchrun, with a fix for PyTorch 1.13 on Python >= 3.11 (copied verbatim into every export).

    python3 torchrun_compat.py --nproc_per_node 2 train_qat.py --data train.safetensors --out qat-out

Takes torchrun's arguments. On torch 1.13 under Python 3.11 (Debian 12's python3-torch), torchrun fails before
starting any process ("'NoneType' object has no attribute 'get'"): Std.from_str("0") finds no member, because
Python 3.11 no longer iterates over the zero and multi-bit members of an IntFlag. This replaces that lookup by
Std(value) and runs torch.distributed.run unchanged. Newer PyTorch has the fix: plain `torchrun` works there.
"""
import re
import sys

from torch.distributed.elastic.multiprocessing import api


def _from_str(vm):
    if re.match(api._VALUE_REGEX, vm):
        return api.Std(int(vm))
    if re.match(api._MAPPING_REGEX, vm):
        return {int(i): api.Std(int(v)) for i, v in (m.split(":") for m in vm.split(","))}
    raise ValueError(f"{vm} does not match: <{api._VALUE_REGEX}> or <{api._MAPPING_REGEX}>")


if api.Std.from_str("0") is None:
    api.Std.from_str = staticmethod(_from_str)

if __name__ == "__main__":
    from torch.distributed.run import main

    sys.exit(main())
