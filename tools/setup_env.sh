#!/usr/bin/env bash
# Creates .venv/ at the repository root with the whole tested stack.
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is built from its source once per
# machine and cached outside the clone ($KDAS_CACHE, default ~/.cache/kdas); later runs
# (and CI on the same machine) reuse the cached wheel.
# Re-running is cheap: a stamp records what was installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KDAS_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE="${KDAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdas}"
WHEELS="$CACHE/wheels/torch-$TORCH_VERSION"

log() { printf '[setup_env] %s\n' "$*"; }

command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

stamp="$VENV/.kdas-setup-stamp"
want="$(cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}" | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "environment up to date ($VENV)"
  exit 0
fi

"${PIP[@]}" install -q wheel ninja
log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION"
"${PIP[@]}" install -q "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

# numpy before the mmcv build so that it compiles against the pinned one.
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"

# CPU-only and CUDA builds of mmcv differ: keep them apart in the cache.
flavour="$("$PY" -c 'import os, torch; print("cuda" if torch.cuda.is_available() or os.environ.get("FORCE_CUDA") == "1" else "cpu")')"
WHEELS="$WHEELS-$flavour"
mmcv_wheel="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$mmcv_wheel" ]; then
  log "building mmcv $MMCV_VERSION with its ops from source (about 10 minutes, once per machine)"
  # mmcv 2.1.0's setup.py imports pkg_resources, which newer setuptools no longer ships
  # (torch pulls a newer one in; it only needs it to build extensions, as here).
  "${PIP[@]}" install -q 'setuptools<70'
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
  tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
  # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$build/mmcv-$MMCV_VERSION/setup.py"
  mkdir -p "$WHEELS"
  (cd "$build/mmcv-$MMCV_VERSION" &&
    MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      "${PIP[@]}" wheel -q --no-build-isolation --no-deps . -w "$build/dist")
  mv "$build"/dist/mmcv-*.whl "$WHEELS/"
  mmcv_wheel="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
fi
log "installing $mmcv_wheel"
# The runtime pins constrain what mmcv's own requirements (opencv, numpy) pull in.
"${PIP[@]}" install -q "$mmcv_wheel" -c "$ROOT/requirements/runtime.txt"

log "installing OpenMMLab packages, test and optional requirements"
"${PIP[@]}" install -q -c "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/mminstall.txt" \
  -r "$ROOT/requirements/tests.txt" -r "$ROOT/requirements/optional.txt"
# Again, so that the runtime pins win over what the mmcv build needed (old setuptools).
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

"$PY" - <<'PY'
import mmcv, mmcv.ops, mmengine, mmseg, mmpretrain, torch, kdas  # noqa: F401
print(f'[setup_env] ok: torch {torch.__version__}, mmcv {mmcv.__version__}, '
      f'mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, '
      f'mmpretrain {mmpretrain.__version__}')
PY
echo "$want" > "$stamp"
