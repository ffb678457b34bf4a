#!/usr/bin/env bash
# PyTorch parity check of the Java network: builds model-artifacts, writes a random model package
# and inputs with the Java runtime (dev.odelt.model.testing.ParityInputs in the test classes),
# recomputes the velocities with tools/reference.py (PyTorch) and fails when the max abs
# difference exceeds PARITY_TOLERANCE (default 1e-4).
#
# Usage (from anywhere):  model-artifacts/tools/parity.sh [work dir]
# Env: MAVEN_ARGS (default "-B -q"; add -o to stay offline), PARITY_TOLERANCE.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${1:-$(mktemp -d)}"
tolerance="${PARITY_TOLERANCE:-1e-4}"
python=/usr/bin/python3   # Debian's interpreter, where python3-torch installs

if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "parity: installing python3-torch (Debian)" >&2
  apt-get update -qq && apt-get install -y -qq python3-torch >/dev/null
fi

read -r -a mvn_args <<< "${MAVEN_ARGS:--B -q}"
cd "$root"
mvn "${mvn_args[@]}" install -pl model-artifacts -am -DskipTests
mvn "${mvn_args[@]}" -pl model-artifacts \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile="$work/classpath.txt"
classpath="model-artifacts/target/test-classes:model-artifacts/target/classes:$(cat "$work/classpath.txt")"

java -Dai.djl.offline=true -cp "$classpath" dev.odelt.model.testing.ParityInputs "$work"
"$python" "$here/reference.py" compare --package "$work/package" \
  --inputs "$work/inputs.safetensors" --expected "$work/java.safetensors" --tolerance "$tolerance"
