#!/usr/bin/env bash
# Builds the job's container image: deploy/k8s/build-image.sh [--cuda] [--tag NAME]
# Prepares a build context with the shaded job jar and the DJL jars for Flink's lib/, then runs
# `docker build` (or prints the context path with --context-only, for other builders).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
tag="odelt-beam:latest"
profile=()
context_only=false
while [[ $# -gt 0 ]]; do
  case "$1" in
    --cuda) profile=(-Pcuda) ;;
    --tag) tag="$2"; shift ;;
    --context-only) context_only=true ;;
    *) echo "usage: $0 [--cuda] [--tag NAME] [--context-only]" >&2; exit 2 ;;
  esac
  shift
done
ctx="$(mktemp -d)"
cd "$root"
mvn -B -q "${profile[@]}" package -DskipTests
mvn -B -q "${profile[@]}" -pl pipelines -am dependency:copy-dependencies \
  -DincludeGroupIds=ai.djl,ai.djl.pytorch -DexcludeTransitive=false \
  -DincludeScope=runtime -DoutputDirectory="$ctx/lib"
# copy-dependencies runs on every module of the reactor; only pipelines' output matters.
cp pipelines/target/odelt-pipelines.jar "$ctx/"
cp "$here/Dockerfile" "$ctx/"
if $context_only; then
  echo "$ctx"
else
  docker build -t "$tag" "$ctx"
fi
