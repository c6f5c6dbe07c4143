#!/usr/bin/env bash
# Calibration vs distillation QAT without labels, through the CLI: an imported ONNX model (default: the residual net
# of tests/fixtures/onnx, 3x16x16) on generated PNGs without class folders; int8 and int4 weights. Prints the output
# SQNR / cosine to the float model on the held-out images after calibration and after QAT (report.json of each run).
# SQNR / cosine of every output (a model with several outputs: one figure each).
#   bash scripts/distill-sqnr.sh [ONNX] [IMAGES] [EPOCHS] [SIZE] [LR] [BITS]   (SIZE: the images' side, the model's
#                                input; 16; LR: Adam's learning rate, 5e-4; BITS: the weight widths, "8 4")
#   bash scripts/distill-sqnr.sh tests/fixtures/onnx/yolo_block.onnx 60 3 32 2e-5   (the YOLO-style block, two outputs)
#   bash scripts/distill-sqnr.sh tests/fixtures/onnx/fpn.onnx 60 3 32 5e-4 4        (the FPN neck, three outputs, int4)
set -euo pipefail
cd "$(dirname "$0")/.."
onnx=${1:-tests/fixtures/onnx/residual.onnx}
count=${2:-60}
epochs=${3:-3}
size=${4:-16}
lr=${5:-5e-4}
bitsList=${6:-8 4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
node --import tsx scripts/unlabelled-images.ts "$work/images" --count "$count" --size "$size"
for bits in $bitsList; do
  dir="$work/w$bits"
  mkdir -p "$dir"
  common=(--onnx "$onnx" --data "folder:$work/images" --backend cpu --batch-size 8 --model-path "$dir")
  npm run --silent cli -- calib "${common[@]}" --calib-images "$count" --weight-bits "$bits" > "$dir/calib.log" 2>&1
  npm run --silent cli -- qat "${common[@]}" --distill --feature-weight 0.5 --epochs "$epochs" --optimizer adam --lr "$lr" \
    --schedule constant --qconfig default_qat_fixed_act > "$dir/qat.log" 2>&1
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1] + "/report.json", "utf8"));
    const f = (s) => `SQNR ${s.sqnr_db === null ? "inf" : s.sqnr_db.toFixed(2)} dB, cosine ${s.cosine.toFixed(5)}`;
    r.calib.similarity.forEach((c, k) => console.log(`int${process.argv[2]} weights, output ${c.output} [${c.shape.join("x")}], ${c.images} held-out images: ` +
      `calibration ${f(c)}; distillation QAT (${r.qat.epochs} epochs) ${f(r.qat.similarity[k])}`));
  ' "$dir" "$bits"
done
