#!/usr/bin/env bash
# Builds deploy/gpu/bundle/ (git-ignored): everything deploy/gpu/check.sh needs on a GPU machine
# that has Python + torch + CMake + a compiler but no JVM and no network. Run it here, then send
# the repository with the bundle (at most 64 MiB in all) and run check.sh there.
#
#   deploy/gpu/bundle.sh
#
# Inputs (environment):
#   DJL_GIT    a git directory of github.com/deepjavalibrary/djl holding tag v0.33.0
#              (default: /work/.mirror/deepjavalibrary+djl/repo)
#   ODELT_GIT  a git directory of github.com/gudovskiy/odelt, the authors' JAX code
#              (default: /work/.mirror/gudovskiy+odelt/repo); optional: without it the JAX
#              comparison is skipped
#   MAVEN_ARGS extra Maven arguments (e.g. "-o")
#
# Layout of the bundle:
#   jre/         a jlink'd Java 17 runtime with only the modules the jars use
#   lib/         the model library (model-artifacts + proto) and DJL's api/engine jars and their
#                dependencies; no Beam, no Flink, no PyTorch natives, no prebuilt JNI
#   djl/         DJL 0.33.0's PyTorch JNI sources (Apache-2.0), its utils header, the JNI header
#                javac generates for PyTorchLibrary, DJL's LICENSE
#   jni-include/ jni.h and jni_md.h of this JDK (to compile the JNI without a JDK there)
#   reference/   the authors' model.py and math_utils.py (+ LICENSE) for the JAX comparison
#   bundle.json  what went in, sizes, the commit it was built from
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=deploy/gpu/bundle
djl_git=${DJL_GIT:-/work/.mirror/deepjavalibrary+djl/repo}
odelt_git=${ODELT_GIT:-/work/.mirror/gudovskiy+odelt/repo}
limit=$((64 * 1024 * 1024))

rm -rf "$out"
mkdir -p "$out/lib" "$out/djl/include" "$out/jni-include" "$out/reference"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The model library and its runtime classpath, built in the reactor (never installed).
# shellcheck disable=SC2086
mvn -B -q ${MAVEN_ARGS:-} -pl model-artifacts -am package -DskipTests \
  dependency:build-classpath -Dmdep.includeScope=runtime -Dmdep.outputFile="$work/cp.txt"
cp proto/target/odelt-proto-*-SNAPSHOT.jar "$out/lib/"
# The check makes random networks: the bundled MNIST model and digits (9 MB) stay home.
artifacts=$(ls model-artifacts/target/odelt-model-artifacts-*.jar | grep -v -- '-tests.jar$')
cp "$artifacts" "$out/lib/"
zip -q -d "$out/lib/$(basename "$artifacts")" 'dev/odelt/models/*' 'dev/odelt/data/*'
tr ':' '\n' <"$work/cp.txt" | while read -r jar; do
  case "$jar" in
    *.jar) ;;
    *) continue ;; # reactor classes directories: their jars were copied above
  esac
  case "$(basename "$jar")" in
    # PyTorch natives and the prebuilt JNI: check.sh builds the JNI against the device's torch.
    pytorch-native-* | pytorch-jni-*) continue ;;
    junit-* | opentest4j-* | apiguardian-* | junit-platform-*) continue ;;
  esac
  cp "$jar" "$out/lib/"
done

# 2. A Java runtime with the modules the check's code paths use (jdeps over the whole library
# would add java.desktop, java.sql and java.compiler for the evaluation tools and optional
# annotation/JDBC support: 15 MB the check never loads; the dry run proves the list).
modules="java.base,java.logging,java.management,jdk.unsupported"
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --compress=2 \
  --output "$out/jre"

# 3. DJL's PyTorch JNI sources at the tag the engine jar was built from, and the JNI header.
git -C "$djl_git" archive v0.33.0 LICENSE api/src/main/native \
  engines/pytorch/pytorch-native/src/main/native \
  engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java |
  tar -x -C "$out/djl"
javac -h "$out/djl/include" -d "$work/classes" \
  "$out/djl/engines/pytorch/pytorch-engine/src/main/java/ai/djl/pytorch/jni/PyTorchLibrary.java"
java_home=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
cp "$java_home/include/jni.h" "$java_home/include/linux/jni_md.h" "$out/jni-include/"

# 4. The authors' JAX model (optional).
if git -C "$odelt_git" rev-parse HEAD >/dev/null 2>&1; then
  git -C "$odelt_git" archive HEAD LICENSE model.py math_utils.py | tar -x -C "$out/reference"
  odelt_commit=$(git -C "$odelt_git" rev-parse HEAD)
else
  echo "bundle: no authors' repository at $odelt_git; the JAX comparison will be skipped" >&2
  odelt_commit=""
fi

bytes=$(du -sb "$out" | cut -f1)
tracked=$(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)
cat >"$out/bundle.json" <<EOF
{
  "built": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "commit": "$(git rev-parse HEAD)",
  "java_modules": "$modules",
  "djl_jni_sources": "deepjavalibrary/djl v0.33.0",
  "reference_commit": "$odelt_commit",
  "bundle_bytes": $bytes,
  "tracked_tree_bytes": $tracked
}
EOF
echo "bundle: $out is $((bytes / 1024 / 1024)) MiB; tracked tree $((tracked / 1024 / 1024)) MiB;" \
  "together $(((bytes + tracked) / 1024 / 1024)) MiB of 64"
du -sh "$out"/* | sort -h
if ((bytes + tracked > limit)); then
  echo "bundle: over the 64 MiB that may travel" >&2
  exit 1
fi
