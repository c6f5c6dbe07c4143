#!/usr/bin/env bash
# Issue 13's measured targets, one part at a time (each a few minutes to tens of minutes on a 2-core software
# adapter), every part writing runs/ptq-targets/<part>.log and its own model folder:
#   cnn-float   cnn-small float in the studio, 10 000 images, 1 epoch (Adam, one-cycle) -> runs/ptq-targets/cnn
#   cnn-torch   the same model trained by PyTorch instead (scripts/torch-cnn-small.py, 20 000 images, 1 epoch;
#               minutes instead of an hour on a loaded 2-core software adapter)  -> runs/ptq-targets/cnn
#   cnn-w4      cnn-small W4A8 (int4 per-channel weights, int8 activations): round-to-nearest, then AdaRound
#   cnn-obs     cnn-small int8: each single observer, then automatic calibration over the same candidates, on the same
#               calibration images; accuracy on TEST images in the studio, and on all 10 000 test images by the QDQ export
#   fcnn-obs    the imported Fashion-MNIST CNN (tests/fixtures/onnx/fashion_cnn.onnx): the same
#   resnet-w4   the imported ResNet-style model (tests/fixtures/onnx/fashion_resnet.onnx): W4A8 as cnn-w4
#   sens        the sensitivity pass of cnn-small (int8, mse) on 512 test images (analyze; its time is printed)
#   planted     the planted-fault test (prints float / int8 / int16-on-the-top-site accuracy)
# then `node scripts/ptq-targets-summary.mjs` prints every figure from the report.json files.
# Usage: bash scripts/ptq-targets.sh PART [PART...]   (environment: BACKEND=webgpu|cpu, TEST=test images,
#        OBS_BACKEND=backend of the observer parts (cpu), CALIB=calibration images (automatic calibration selects on all of them),
#        STEPS / BATCHES / LR = AdaRound's num_steps, num_batches, lr; CRITERION = automatic calibration's criterion
#        (l2|kl|loss, default the CLI's); RUNS = which calibrations the observer parts make (default: each of
#        OBSERVERS, then auto); SLICE = a second calibration slice: --subset SLICE, so calib's seed-1 permutation
#        draws other training images, the folders named <model>-<run>-sSLICE); TAG = a suffix for the log name;
#        AUTO_IMAGES = --auto-calib-images (images the search scores on; above CALIB: the calibration images and the
#        next training images of the same permutation); GATE = --auto-calib-gate; AUTO_NAME = the auto run's folder
#        name instead of "auto")
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${BACKEND:-webgpu}
test=${TEST:-1000}
calib=${CALIB:-256}
steps=${STEPS:-100}
batches=${BATCHES:-2}
lr=${LR:-0.05}
observers=${OBSERVERS:-minmax,percentile,mse,kl}
obsbackend=${OBS_BACKEND:-cpu}
runs=${RUNS:-${observers//,/ } auto}
slice=${SLICE:-}
crit=(${CRITERION:+--auto-calib-criterion "$CRITERION"} ${AUTO_IMAGES:+--auto-calib-images "$AUTO_IMAGES"} ${GATE:+--auto-calib-gate "$GATE"})
data=idx:/usr/share/datasets/fashion-mnist
root=runs/ptq-targets
mkdir -p "$root"
cli() { npm run -s cli -- "$@"; }
common=(--data "$data" --batch-size 64 --seed 0 --backend "$backend" --calib-images "$calib")

# A fresh folder for one calibration of the model in $1 (cnn: the float checkpoint of cnn-float; onnx: empty).
fresh() {
  rm -rf "$root/$2"
  mkdir -p "$root/$2"
  if [ "$1" = cnn ]; then cp "$root/cnn/float-checkpoint" "$root/$2/"; fi
}
model() { case "$1" in cnn) echo --model cnn-small ;; fcnn) echo --onnx tests/fixtures/onnx/fashion_cnn.onnx ;; resnet) echo --onnx tests/fixtures/onnx/fashion_resnet.onnx ;; esac; }

w4() { # $1: cnn|resnet
  # Round-to-nearest and AdaRound as two calibrations (the AdaRound run also prints round-to-nearest's Acc@1 on TEST
  # images: "Calibration (round-to-nearest weights): ..."), each then compiled and its QDQ export run by onnxruntime
  # on all 10 000 test images (scripts/qdq-accuracy.mjs).
  fresh "$1" "$1-w4near"
  cli calib $(model "$1") "${common[@]}" --test-subset "$test" --model-path "$root/$1-w4near" --weight-bits 4
  fresh "$1" "$1-w4"
  cli calib $(model "$1") "${common[@]}" --test-subset "$test" --model-path "$root/$1-w4" --weight-bits 4 \
    --adaround --adaround-steps "$steps" --adaround-batches "$batches" --adaround-lr "$lr"
  for d in w4near w4; do
    cli compile --model-path "$root/$1-$d" --backend "$backend" | grep -E 'Wrote .*onnx'
    node scripts/qdq-accuracy.mjs "$root/$1-$d"
  done
}

obs() { # $1: cnn|fcnn
  # The calibrations on the CPU reference backend (OBS_BACKEND; the same arithmetic, far less CPU time than llvmpipe
  # on a loaded machine), the studio's own Acc@1 on TEST images, then compile's QDQ export run by onnxruntime on all
  # 10 000 test images (scripts/qdq-accuracy.mjs): the accuracy compared.
  local b=(--backend "$obsbackend") c=(--data "$data" --batch-size 64 --seed 0 --backend "$obsbackend" --calib-images "$calib" ${slice:+--subset "$slice"})
  for o in $runs; do
    local d="$1-$([ "$o" = auto ] && echo "${AUTO_NAME:-auto}" || echo "$o")${slice:+-s$slice}"
    fresh "$1" "$d"
    if [ "$o" = auto ]; then
      cli calib $(model "$1") "${c[@]}" --test-subset "$test" --model-path "$root/$d" --auto-calib --auto-calib-observers "$observers" "${crit[@]}"
    else
      cli calib $(model "$1") "${c[@]}" --test-subset "$test" --model-path "$root/$d" --observer "$o"
    fi
    cli compile --model-path "$root/$d" "${b[@]}" | grep -E 'Wrote .*onnx'
    node scripts/qdq-accuracy.mjs "$root/$d"
  done
}

for part in "$@"; do
  log="$root/$part${slice:+-s$slice}${TAG:+-$TAG}.log"
  echo "== $part ($(date -u +%H:%M:%S)) -> $log"
  start=$(date +%s)
  status=0
  case "$part" in
    cnn-float) cli float --model cnn-small --data "$data" --batch-size 128 --seed 0 --backend "$backend" --subset 10000 --test-subset "$test" --epochs 1 \
                 --lr 5e-3 --optimizer adam --schedule onecycle --model-path "$root/cnn" >"$log" 2>&1 || status=$? ;;
    cnn-torch) /usr/bin/python3 scripts/torch-cnn-small.py "$root/cnn" 1 20000 >"$log" 2>&1 || status=$? ;;
    cnn-w4) w4 cnn >"$log" 2>&1 || status=$? ;;
    resnet-w4) w4 resnet >"$log" 2>&1 || status=$? ;;
    cnn-obs) obs cnn >"$log" 2>&1 || status=$? ;;
    fcnn-obs) obs fcnn >"$log" 2>&1 || status=$? ;;
    sens) { [ -f "$root/cnn-mse/calib-checkpoint" ] || { fresh cnn cnn-mse; cli calib --model cnn-small "${common[@]}" --test-subset "$test" --model-path "$root/cnn-mse" --observer mse; }
            cli analyze --model cnn-small "${common[@]}" --test-subset 512 --model-path "$root/cnn-mse" --no-mixed-precision --layer-images 64; } >"$log" 2>&1 || status=$? ;;
    planted) npx vitest run tests/analysis-planted-fault.test.ts >"$log" 2>&1 || status=$? ;;
    *) echo "unknown part $part"; exit 2 ;;
  esac
  echo "   $([ $status = 0 ] && echo done || echo "FAILED ($status)") in $(( $(date +%s) - start )) s"
done
