#!/usr/bin/env bash
# Puts the model files into models/ (or $FACEATT_MODELS_DIR).
#   - With FACEATT_MODEL_MIRROR=<folder>: copies the known model files found there
#     (plain or .bz2) and downloads nothing from dlib.net.
#   - Otherwise: downloads dlib's official ResNet recognizer, 5-point landmarks and
#     MMOD detector (bz2) from dlib.net, with short time-outs.
#   - Either way, when no ResNet recognizer is in models/ after that (dlib.net or
#     the mirror did not have it), the same network's weights come from face-api's
#     npm package (pinned version, through `npm pack`; MIT): the two files
#     face_recognition_model-weights_manifest.json and face_recognition_model.bin.
# Every file is checked against models.sha256 beside this script; a file with no
# pinned sum is recorded in models/SHA256SUMS on first fetch and checked after.
# Files are installed atomically (a checked temporary copy renamed into place).
# Idempotent: files already present and matching are left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
dest="${FACEATT_MODELS_DIR:-$repo/models}"
mirror="${FACEATT_MODEL_MIRROR:-}"
base_url="${FACEATT_MODEL_URL:-http://dlib.net/files}"
faceapi_package="@vladmandic/face-api@1.7.15"
faceapi_files=(face_recognition_model.bin face_recognition_model-weights_manifest.json)  # manifest last
mkdir -p "$dest"
workdir=""  # npm's temporary folder, removed on exit
trap '[ -z "$workdir" ] || rm -rf "$workdir"' EXIT

die() { echo "fetch-models: $*" >&2; exit 1; }
pinned_sum() { awk -v f="$1" '$2 == f { print $1 }' "$here/models.sha256"; }
recorded_sum() { [ -f "$dest/SHA256SUMS" ] && awk -v f="$1" '$2 == f { print $1 }' "$dest/SHA256SUMS" || true; }

# Verifies file $2 as model $1; returns 1 on mismatch.
verify() {
  local name="$1" path="$2" want got
  got="$(sha256sum "$path" | cut -d' ' -f1)"
  want="$(pinned_sum "$name")"
  [ -n "$want" ] || want="$(recorded_sum "$name")"
  if [ -z "$want" ]; then
    echo "$got  $name" >> "$dest/SHA256SUMS"
    echo "fetch-models: $name has no pinned checksum; recorded $got in $dest/SHA256SUMS" >&2
    return 0
  fi
  [ "$got" = "$want" ] || { echo "fetch-models: $name: sha256 $got, expected $want" >&2; return 1; }
}
present() { [ -f "$dest/$1" ] && verify "$1" "$dest/$1" 2>/dev/null; }

# Installs $2 (a plain or .bz2 file) as $dest/$1: checked first, then renamed into place.
install_file() {
  local name="$1" src="$2" tmp="$dest/.$1.tmp"
  case "$src" in
    *.bz2) bunzip2 -c "$src" > "$tmp" ;;
    *) cp "$src" "$tmp" ;;
  esac
  verify "$name" "$tmp" || { rm -f "$tmp"; die "checksum mismatch: $name from $src"; }
  mv -f "$tmp" "$dest/$name"
}

have_resnet() {
  present dlib_face_recognition_resnet_model_v1.dat && return 0
  for f in "${faceapi_files[@]}"; do present "$f" || return 1; done
}

# face-api's ResNet weights from its npm package (npm resolves the registry).
fetch_faceapi() {
  command -v npm >/dev/null || die "npm is not installed (scripts/setup.sh installs it); it is needed to fetch the ResNet weights ($faceapi_package)"
  workdir="$(mktemp -d)"
  local tmp="$workdir"
  echo "fetch-models: npm pack $faceapi_package"
  if ! (cd "$tmp" && timeout 300 npm pack --silent --fetch-timeout=30000 --fetch-retries=1 "$faceapi_package" > pack.out 2> pack.err); then
    sed 's/^/  /' "$tmp/pack.err" >&2
    die "npm pack $faceapi_package failed (no connection to the npm registry?). Put the files in a folder and set FACEATT_MODEL_MIRROR to it."
  fi
  local tgz
  tgz="$(ls "$tmp"/*.tgz 2>/dev/null | head -1)"
  [ -n "$tgz" ] || die "npm pack $faceapi_package produced no package file"
  local members=()
  for f in "${faceapi_files[@]}"; do members+=("package/model/$f"); done
  tar -xzf "$tgz" -C "$tmp" "${members[@]}" || die "$tgz lacks ${members[*]}"
  for f in "${faceapi_files[@]}"; do
    install_file "$f" "$tmp/package/model/$f"
    echo "fetch-models: $f from $faceapi_package"
  done
}

official=(dlib_face_recognition_resnet_model_v1.dat shape_predictor_5_face_landmarks.dat mmod_human_face_detector.dat)
known=("${official[@]}" face_recognition_densenet_model_v1.dat shape_predictor_68_face_landmarks.dat "${faceapi_files[@]}")

if [ -n "$mirror" ]; then
  [ -d "$mirror" ] || die "FACEATT_MODEL_MIRROR=$mirror is not a folder"
  for name in "${known[@]}"; do
    if present "$name"; then continue; fi
    for src in "$mirror/$name" "$mirror/$name.bz2"; do
      if [ -f "$src" ]; then install_file "$name" "$src"; echo "fetch-models: $name from $src"; break; fi
    done
  done
else
  command -v curl >/dev/null || die "curl is not installed (scripts/setup.sh installs it)"
  for name in "${official[@]}"; do
    if present "$name"; then continue; fi
    url="$base_url/$name.bz2"
    echo "fetch-models: downloading $url"
    # A host that does not answer fails in 10 s; a stalled download (under 1 kB/s for 30 s) is given up.
    if ! curl --fail --silent --show-error --location --connect-timeout 10 --speed-limit 1024 --speed-time 30 \
        -o "$dest/.$name.bz2" "$url"; then
      rm -f "$dest/.$name.bz2"
      # The ResNet also comes from npm below; landmarks from Debian's libdlib-data.
      echo "fetch-models: cannot download $url; trying the other sources" >&2
      break  # dlib.net does not answer: do not wait for it again
    fi
    install_file "$name" "$dest/.$name.bz2"
    rm -f "$dest/.$name.bz2"
  done
fi

have_resnet || fetch_faceapi

if ! have_resnet && [ ! -f "$dest/face_recognition_densenet_model_v1.dat" ]; then
  die "no face recognition model in $dest"
fi
if [ ! -f "$dest/shape_predictor_5_face_landmarks.dat" ] && [ ! -f "$dest/shape_predictor_68_face_landmarks.dat" ] \
   && [ ! -f /usr/share/dlib/shape_predictor_68_face_landmarks.dat ]; then
  die "no landmark model: install libdlib-data or fetch shape_predictor_5_face_landmarks.dat"
fi
echo "fetch-models: models ready in $dest"
