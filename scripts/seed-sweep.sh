#!/usr/bin/env bash
# The float stage of scripts/reproduce-targets.sh over several seeds (initialisation and batch order;
# the --subset permutation stays the fixed seed-0 one), to tell the recipe's seed-to-seed spread
# from a real gap to the PyTorch reference. Each run keeps its own report under runs/.
# Usage: bash scripts/seed-sweep.sh subset|full "0 1 2 3" [backend]
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-subset}
seeds=${2:-"0 1 2"}
backend=${3:-webgpu}
data=idx:/usr/share/datasets/fashion-mnist
case "$which" in
  subset) float=(--subset 10000 --epochs 2); ref=73.31 ;;
  full) float=(--epochs 3); ref=86.94 ;;
  *) echo "usage: $0 subset|full \"SEEDS\" [webgpu|cpu]"; exit 2 ;;
esac
dirs=()
for s in $seeds; do
  dir=runs/cnn-$which-seed$s
  dirs+=("$dir")
  if [ -f "$dir/report.json" ] && node -e "process.exit(require('./$dir/report.json').float ? 0 : 1)"; then
    echo "seed $s: $dir/report.json exists, kept"; continue
  fi
  npm run -s cli -- float --model cnn-small --data "$data" --batch-size 128 --seed "$s" --backend "$backend" \
    "${float[@]}" --lr 5e-3 --optimizer adam --schedule onecycle --model-path "$dir" 2>&1 | grep -E "Epoch|Backend"
done
node -e "
const dirs = process.argv.slice(1), ref = $ref; // node -e: argv[0] is node, then the arguments
const acc = dirs.map((d) => require('./' + d + '/report.json').float.acc1);
const mean = acc.reduce((a, b) => a + b, 0) / acc.length;
const sd = Math.sqrt(acc.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, acc.length - 1));
dirs.forEach((d, i) => console.log(d.padEnd(28), acc[i].toFixed(2)));
console.log('$which: n ' + acc.length + ', mean ' + mean.toFixed(2) + ', sd ' + sd.toFixed(2) + ', min ' + Math.min(...acc).toFixed(2) +
  ', max ' + Math.max(...acc).toFixed(2) + '; PyTorch reference ' + ref + ' (mean - ref ' + (mean - ref).toFixed(2) + ')');
" "${dirs[@]}"
