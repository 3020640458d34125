#!/usr/bin/env bash
# Whole set-up on a fresh Debian/Ubuntu machine: packages, models, build.
# Idempotent: re-running installs nothing new and rebuilds only what changed.
#   FACEATT_MODEL_MIRROR=<folder>  copy models from a folder instead of downloading
#   FACEATT_BUILD_DIR=<folder>     build folder (default build/)
#   FACEATT_NATIVE=OFF             a binary for any x86-64, not only CPUs like this one
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
build="${FACEATT_BUILD_DIR:-build}"

packages=(
  build-essential cmake pkg-config ca-certificates curl bzip2
  libdlib-dev libdlib-data libopenblas0-pthread libopenblas-pthread-dev
  libopencv-dev libdnnl-dev libcli11-dev libtomlplusplus-dev libspdlog-dev libcpp-httplib-dev
  libsqlite3-dev libssl-dev libpng-dev libjpeg62-turbo-dev libtiff-dev libwebp-dev libstb-dev
  nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev
  clang-14 libclang-rt-14-dev ccache
  mariadb-server mariadb-client
  chromium chromium-driver python3-selenium python3-pil fonts-nanum
  postgresql libpq-dev
  npm
)
missing=()
for p in "${packages[@]}"; do
  # fetch-models.sh needs an npm command (for the ResNet's weights), from Debian or elsewhere.
  if [ "$p" = npm ] && command -v npm >/dev/null; then continue; fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# With models.engine = "dlib" the network runs about 7x faster on OpenBLAS than
# on the reference BLAS (the default engine, OpenCV's dnn, does not use it).
if ! readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3 2>/dev/null | grep -q openblas; then
  echo "setup: warning: libblas.so.3 is not OpenBLAS; embeddings on dlib (models.engine = \"dlib\") will be slow" >&2
  echo "       (sudo update-alternatives --config libblas.so.3-x86_64-linux-gnu)" >&2
fi

scripts/fetch-models.sh

# The build is for this machine: dlib's detector and landmarks compiled for its
# CPU (AVX2/AVX-512) are about 1.3x faster (docs/benchmarks.md).
# ccache makes a rebuild of unchanged sources (another clone, CI after a session) cheap.
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DFACEATT_NATIVE="${FACEATT_NATIVE:-ON}" "${launcher[@]}"
cmake --build "$build" -j"$(nproc)"
echo "setup: done. Try: $build/faceatt --help"
