#!/usr/bin/env bash
# What `npm test` needs outside node_modules, checked (and installed with apt-get when run as root) before any test
# runs. The one list of the tests' system needs: `npm test` runs this as its `pretest` step and CI (.ci/run) runs
# `npm test`. Each need: the Debian package, and how to tell it is there.
#   chromium               /usr/bin/chromium: Playwright's browser for the e2e suite (and its SwiftShader Vulkan)
#   dataset-fashion-mnist  the original IDX files in /usr/share/datasets/fashion-mnist (IDX reader, CLI tests)
#   libegl-mesa0 libgles2 libgl1-mesa-dri   Mesa's EGL/GLES: llvmpipe, the WebGPU adapter Dawn uses in Node
#   python3-torch python3-torchvision python3-onnx   /usr/bin/python3 with PyTorch: the reference numbers and the
#                          ONNX fixtures that tests compute or export at run time
# Options: --check  only report (exit 1 when something is missing), never install.
set -euo pipefail
cd "$(dirname "$0")/.."

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

# "package|test" pairs; the test is a shell condition that holds when the need is met.
needs=(
  "chromium|[ -x /usr/bin/chromium ]"
  "dataset-fashion-mnist|[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || [ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte ]"
  "libegl-mesa0|installed libegl-mesa0"
  "libgles2|installed libgles2"
  "libgl1-mesa-dri|installed libgl1-mesa-dri"
  "python3-torch|installed python3-torch"
  "python3-torchvision|installed python3-torchvision"
  "python3-onnx|installed python3-onnx"
)

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

missing_packages() {
  local out=() entry
  for entry in "${needs[@]}"; do
    if ! eval "${entry#*|}"; then out+=("${entry%%|*}"); fi
  done
  echo "${out[*]:-}"
}

missing=$(missing_packages)
if [ -n "$missing" ]; then
  if [ "$check_only" = 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "ensure-test-deps: installing $missing (apt-get)"
    apt-get update -qq
    # shellcheck disable=SC2086  # a list of package names
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
    missing=$(missing_packages)
    [ -z "$missing" ] || { echo "ensure-test-deps: still missing after apt-get install: $missing" >&2; exit 1; }
  else
    echo "ensure-test-deps: the tests need these Debian packages, which are missing: $missing" >&2
    echo "  install them with:  sudo apt-get update && sudo apt-get install -y $missing" >&2
    echo "  (as root, \`npm test\` installs them itself)" >&2
    exit 1
  fi
fi

if [ ! -d node_modules ] || [ ! -x node_modules/.bin/vitest ]; then
  echo "ensure-test-deps: node_modules is missing or incomplete: run \`npm ci\` first" >&2
  exit 1
fi
if [ ! -f public/data/fashion-mnist-train.bin ] || [ ! -f public/data/fashion-mnist-test.bin ]; then
  echo "ensure-test-deps: public/data/fashion-mnist-{train,test}.bin are missing: run \`npm ci\` (its postinstall step" \
    "builds them) or \`node scripts/build-fashion-mnist.mjs\`" >&2
  exit 1
fi
echo "ensure-test-deps: all test dependencies present"
