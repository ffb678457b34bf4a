#!/usr/bin/env bash
# PyTorch parity check of the Java network: builds model-artifacts in the reactor (nothing is
# installed into ~/.m2), writes random model packages and inputs with the Java runtime
# (dev.odelt.model.testing.ParityInputs in the test classes: a column-first model, a legacy
# row-first one, an XL-like one with depth_min not a multiple of G), recomputes the velocities with
# tools/reference.py (PyTorch) and fails when a max abs difference exceeds PARITY_TOLERANCE
# (default 1e-4).
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
# One reactor invocation: package (so proto resolves to its reactor jar, not to ~/.m2), then each
# module's test classpath into its own target/parity-classpath.txt.
mvn "${mvn_args[@]}" -pl model-artifacts -am -DskipTests package \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:build-classpath \
  -Dmdep.includeScope=test -Dmdep.outputFile=target/parity-classpath.txt
deps="$(cat model-artifacts/target/parity-classpath.txt)"
classpath="model-artifacts/target/test-classes:model-artifacts/target/classes:$deps"

families="$(java -Dai.djl.offline=true -cp "$classpath" dev.odelt.model.testing.ParityInputs "$work")"
status=0
for family in $families; do
  echo "parity: $family"
  "$python" "$here/reference.py" compare --package "$work/$family/package" \
    --inputs "$work/$family/inputs.safetensors" --expected "$work/$family/java.safetensors" \
    --tolerance "$tolerance" || status=1
done
exit "$status"
