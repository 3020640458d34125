#!/usr/bin/env bash
# Puts dlib's model files into models/ (or $FACEATT_MODELS_DIR).
#   - With FACEATT_MODEL_MIRROR=<folder>: copies the known model files found there
#     (plain .dat or .dat.bz2) and downloads nothing.
#   - Otherwise: downloads dlib's official ResNet recognizer, 5-point landmarks and
#     MMOD detector (bz2) from dlib.net, with short time-outs.
# Every file is checked against models.sha256 beside this script; a file with no
# pinned sum is recorded in models/SHA256SUMS on first fetch and checked after.
# Idempotent: files already present and matching are left alone.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
dest="${FACEATT_MODELS_DIR:-$repo/models}"
mirror="${FACEATT_MODEL_MIRROR:-}"
base_url="${FACEATT_MODEL_URL:-http://dlib.net/files}"
mkdir -p "$dest"

die() { echo "fetch-models: $*" >&2; exit 1; }
pinned_sum() { awk -v f="$1" '$2 == f { print $1 }' "$here/models.sha256"; }
recorded_sum() { [ -f "$dest/SHA256SUMS" ] && awk -v f="$1" '$2 == f { print $1 }' "$dest/SHA256SUMS" || true; }

# Verifies $dest/$1; returns 1 on mismatch.
verify() {
  local name="$1" want got
  got="$(sha256sum "$dest/$name" | cut -d' ' -f1)"
  want="$(pinned_sum "$name")"
  [ -n "$want" ] || want="$(recorded_sum "$name")"
  if [ -z "$want" ]; then
    echo "$got  $name" >> "$dest/SHA256SUMS"
    echo "fetch-models: $name has no pinned checksum; recorded $got in $dest/SHA256SUMS" >&2
    return 0
  fi
  [ "$got" = "$want" ] || { echo "fetch-models: $name: sha256 $got, expected $want" >&2; return 1; }
}

# Installs $2 (a .dat or .dat.bz2 file) as $dest/$1, atomically.
install_file() {
  local name="$1" src="$2" tmp="$dest/.$1.tmp"
  case "$src" in
    *.bz2) bunzip2 -c "$src" > "$tmp" ;;
    *) cp "$src" "$tmp" ;;
  esac
  mv "$tmp" "$dest/$name"
  verify "$name" || { rm -f "$dest/$name"; die "$name from $src failed its checksum"; }
}

official=(dlib_face_recognition_resnet_model_v1.dat shape_predictor_5_face_landmarks.dat mmod_human_face_detector.dat)
known=("${official[@]}" face_recognition_densenet_model_v1.dat shape_predictor_68_face_landmarks.dat)

if [ -n "$mirror" ]; then
  [ -d "$mirror" ] || die "FACEATT_MODEL_MIRROR=$mirror is not a folder"
  for name in "${known[@]}"; do
    if [ -f "$dest/$name" ] && verify "$name" 2>/dev/null; then continue; fi
    for src in "$mirror/$name" "$mirror/$name.bz2"; do
      if [ -f "$src" ]; then install_file "$name" "$src"; echo "fetch-models: $name from $src"; break; fi
    done
  done
else
  command -v curl >/dev/null || die "curl is not installed (scripts/setup.sh installs it)"
  for name in "${official[@]}"; do
    if [ -f "$dest/$name" ] && verify "$name"; then continue; fi
    url="$base_url/$name.bz2"
    echo "fetch-models: downloading $url"
    # A host that does not answer fails in 10 s; a stalled download (under 1 kB/s for 30 s) is given up.
    if ! curl --fail --silent --show-error --location --connect-timeout 10 --speed-limit 1024 --speed-time 30 \
        -o "$dest/.$name.bz2" "$url"; then
      rm -f "$dest/.$name.bz2"
      die "cannot download $url (no internet?). Put the model files in a folder and set FACEATT_MODEL_MIRROR to it."
    fi
    install_file "$name" "$dest/.$name.bz2"
    rm -f "$dest/.$name.bz2"
  done
fi

if [ ! -f "$dest/dlib_face_recognition_resnet_model_v1.dat" ] && [ ! -f "$dest/face_recognition_densenet_model_v1.dat" ]; then
  die "no face recognition model in $dest (need dlib_face_recognition_resnet_model_v1.dat or face_recognition_densenet_model_v1.dat)"
fi
if [ ! -f "$dest/shape_predictor_5_face_landmarks.dat" ] && [ ! -f "$dest/shape_predictor_68_face_landmarks.dat" ] \
   && [ ! -f /usr/share/dlib/shape_predictor_68_face_landmarks.dat ]; then
  die "no landmark model: install libdlib-data or fetch shape_predictor_5_face_landmarks.dat"
fi
echo "fetch-models: models ready in $dest"
