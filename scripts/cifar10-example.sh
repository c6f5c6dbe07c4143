#!/usr/bin/env bash
# The Horizon toolchain's example from the CLI: MobileNetV2 (width 1.0, 3x32x32) on CIFAR-10 through
# float -> calib -> qat -> int_infer -> compile, each stage as its own command.
# Usage: bash scripts/cifar10-example.sh [CIFAR_DIR] [RUN_DIR]
#   CIFAR_DIR  the folder of CIFAR-10 binary batches (cifar-10-batches-bin: data_batch_1..5.bin, test_batch.bin).
#              Without it, a stand-in in the same format is written to runs/cifar10-standin from real Fashion-MNIST
#              images (scripts/fashion-as-cifar10.ts): CIFAR-10 itself cannot be installed on this project's machines.
#   RUN_DIR    checkpoints and report.json (default runs/mobilenetv2-cifar10).
# Environment: TRAIN / TEST images (default 256 / 128: a short run; --subset / --test-subset on real batches),
#   EPOCHS float epochs (default 1), BACKEND webgpu|cpu (default webgpu).
set -euo pipefail
cd "$(dirname "$0")/.."
train=${TRAIN:-256}
test=${TEST:-128}
data_dir=${1:-}
dir=${2:-runs/mobilenetv2-cifar10}
if [ -z "$data_dir" ]; then
  data_dir=runs/cifar10-standin
  node --import tsx scripts/fashion-as-cifar10.ts "$data_dir" --train "$train" --test "$test"
fi
common=(--model mobilenetv2 --data "cifar10:$data_dir" --subset "$train" --test-subset "$test" --batch-size 32 --seed 0
  --backend "${BACKEND:-webgpu}" --model-path "$dir")
t0=$(date +%s)
npm run -s cli -- float "${common[@]}" --epochs "${EPOCHS:-1}" --optimizer adam --lr 5e-3 --schedule onecycle
npm run -s cli -- calib "${common[@]}" --qconfig default_calibration --calib-images 128
npm run -s cli -- qat "${common[@]}" --qconfig default_qat --epochs 1 --optimizer sgd --lr 1e-4 --momentum 0.9 --schedule constant
npm run -s cli -- int_infer "${common[@]}"
npm run -s cli -- compile "${common[@]}" --march bayes
echo "float -> calib -> qat -> int_infer -> compile on mobilenetv2 with cifar10:$data_dir: $(( $(date +%s) - t0 )) s"
node -e "const r=require('./$dir/report.json'); for (const k of ['float','calib','qat','int']) console.log(k.padEnd(6), 'Acc@1', r[k].acc1.toFixed(2)); console.log('int vs qat top-1 agreement', r.int.agreement_top1.toFixed(2), '%'); console.log('compile', r.compile.march, r.compile.latency_ms.toFixed(3), 'ms', r.compile.model_file)"
