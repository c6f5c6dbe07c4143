#!/usr/bin/env bash
# The accuracy targets of the foundation and quantization issues, on the official Fashion-MNIST split
# (Debian's dataset-fashion-mnist IDX files), same recipe as the PyTorch reference:
# Adam + one-cycle (max lr 5e-3), batch 128, input pixel/255; calibration 512 images; QAT 1 epoch SGD lr 1e-4.
# Usage: bash scripts/reproduce-targets.sh [subset|full|full10] [backend]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-subset}
backend=${2:-webgpu}
data=idx:/usr/share/datasets/fashion-mnist
common=(--model cnn-small --data "$data" --batch-size 128 --seed 0 --backend "$backend")
case "$which" in
  subset) dir=runs/cnn-subset; float=(--subset 10000 --epochs 2); qat=(--subset 10000 --epochs 1) ;;
  full) dir=runs/cnn-full; float=(--epochs 3); qat=(--epochs 1) ;;
  full10) dir=runs/cnn-full10; float=(--epochs 10); qat=(--epochs 1) ;;
  *) echo "usage: $0 subset|full|full10 [webgpu|cpu]"; exit 2 ;;
esac
npm run -s cli -- float "${common[@]}" "${float[@]}" --lr 5e-3 --optimizer adam --schedule onecycle --model-path "$dir"
npm run -s cli -- calib "${common[@]}" "${float[@]}" --qconfig default_calibration --calib-images 512 --model-path "$dir"
npm run -s cli -- qat "${common[@]}" "${qat[@]}" --qconfig default_qat --lr 1e-4 --optimizer sgd --momentum 0.9 --schedule constant --model-path "$dir"
node -e "const r=require('./$dir/report.json'); for (const k of ['float','calib','qat']) console.log(k.padEnd(6), r[k].acc1.toFixed(2), r[k].images_per_s.toFixed(0)+' img/s')"
