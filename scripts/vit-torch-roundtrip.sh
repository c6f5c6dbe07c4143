#!/usr/bin/env bash
# A ViT's round trip through PyTorch with the CLI (README, Scaling out): calib on generated unlabelled PNGs,
# export-torch (with the images as train.safetensors), train_qat.py by distillation under a 2-process torchrun (gloo,
# CPU; Debian's torch 1.13 through torchrun_compat.py), import-torch, then the deployment check of the imported result.
#   bash scripts/vit-torch-roundtrip.sh [ONNX] [MARCH] [STEPS]   (defaults: tests/fixtures/onnx/vit_cls.onnx, bayes, 20)
set -euo pipefail
cd "$(dirname "$0")/.."
onnx=${1:-tests/fixtures/onnx/vit_cls.onnx}
march=${2:-bayes}
steps=${3:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
size=$(node --import tsx -e "import('./src/io/onnx/import.ts').then(({ importOnnx }) => console.log(importOnnx(new Uint8Array(require('node:fs').readFileSync('$onnx')), '$onnx').inputShape[2]))")
node --import tsx scripts/unlabelled-images.ts "$work/images" --count 40 --size "$size"
common=(--onnx "$onnx" --data "folder:$work/images" --backend cpu --batch-size 8 --model-path "$work/run")
npm run -s cli -- calib "${common[@]}" --calib-images 32 --march "$march"
npm run -s cli -- export-torch --model-path "$work/run" --out "$work/run/torch" --data "folder:$work/images" --data-images 32
(cd "$work/run/torch" && /usr/bin/python3 torchrun_compat.py --nproc_per_node 2 --master_port 29541 train_qat.py \
  --data train.safetensors --distill --steps "$steps" --batch-size 8 --lr 1e-3 --out qat-out)
npm run -s cli -- import-torch --checkpoint "$work/run/torch/qat-out" --model-path "$work/run"
npm run -s cli -- int_infer "${common[@]}"
