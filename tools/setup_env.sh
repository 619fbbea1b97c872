#!/usr/bin/env bash
# Creates .venv/ at the repository root with the whole tested stack, on a CPU machine or a
# GPU node that has only a driver (no CUDA toolkit, no nvcc).
#
# mmcv 2.1.0 has no wheel for torch 2.14, so it is built from its source once per
# machine and cached outside the clone ($KDAS_CACHE, default ~/.cache/kdas); later runs
# (and CI on the same machine) reuse the cached wheel.
#
# mmcv's ops are compiled for the CPU only, with no GPU visible to the build: mmcv 2.1.0's
# setup.py compiles its CUDA kernels (and then needs CUDA_HOME and an nvcc matching torch's
# CUDA) whenever torch sees a GPU. kdas uses mmcv.cnn and mmcv.transforms; mmseg only needs
# mmcv.ops to import, so the CPU-ops wheel serves CPU machines and GPU nodes alike (the
# networks run on the GPU through torch itself).
#
# Choices, from the environment:
#   TORCH_CUDA=cpu|cu126|cu128|cu130  the torch build: unset = PyPI's torch (on Linux x86-64
#                      a CUDA 13.0 build, which also runs on a CPU); 'cpu' = CPU only;
#                      'cuXYZ' = PyTorch's build for that CUDA, for drivers too old for 13.0
#                      (nvidia-smi shows the highest CUDA the driver supports).
#   TORCH_INDEX_URL    a pip index for torch/torchvision (overrides TORCH_CUDA).
#   MMCV_CUDA_OPS=1    also compile mmcv's CUDA kernels (needs a CUDA toolkit matching
#                      torch; TORCH_CUDA_ARCH_LIST shortens the build). Nothing in kdas uses them.
#   KDAS_SETUP_PLAN=1  print what would be installed and built, then stop.
# Re-running is cheap: a stamp records what was installed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${KDAS_VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3.11}"
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MMCV_VERSION=2.1.0
CACHE="${KDAS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kdas}"

log() { printf '[setup_env %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { printf '[setup_env] error: %s\n' "$*" >&2; exit 2; }

# --- the plan: every choice is made here, from the environment alone -------------------
torch_index="${TORCH_INDEX_URL:-}"
case "${TORCH_CUDA:-}" in
  "") ;;
  cpu | cu[0-9][0-9] | cu[0-9][0-9][0-9])
    torch_index="${torch_index:-https://download.pytorch.org/whl/$TORCH_CUDA}" ;;
  *) die "TORCH_CUDA=$TORCH_CUDA: expected cpu or cuXYZ (e.g. cu126), see the README's GPU section" ;;
esac
case "${MMCV_CUDA_OPS:-0}" in
  1)
    mmcv_flavour=cuda
    mmcv_build_env=(MMCV_WITH_OPS=1 FORCE_CUDA=1) ;;
  0)
    mmcv_flavour=cpu
    # An empty CUDA_VISIBLE_DEVICES hides every GPU from torch.cuda.is_available(), which
    # is what mmcv's setup.py asks before choosing CUDAExtension.
    mmcv_build_env=(MMCV_WITH_OPS=1 FORCE_CUDA=0 CUDA_VISIBLE_DEVICES=) ;;
  *) die "MMCV_CUDA_OPS=$MMCV_CUDA_OPS: expected 0 or 1" ;;
esac
WHEELS="$CACHE/wheels/torch-$TORCH_VERSION-$mmcv_flavour"
torch_args=("torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION")
[ -n "$torch_index" ] && torch_args+=(--index-url "$torch_index")

if [ "${KDAS_SETUP_PLAN:-0}" = 1 ]; then
  echo "torch: ${torch_args[*]}"
  echo "torch index: ${torch_index:-PyPI (default)}"
  echo "mmcv ops: $mmcv_flavour"
  echo "mmcv build env: ${mmcv_build_env[*]}"
  echo "mmcv wheel cache: $WHEELS"
  exit 0
fi

# --- the installation ------------------------------------------------------------------
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x "$VENV/bin/python" ]; then
  log "creating $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV"
fi
PY="$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)

stamp="$VENV/.kdas-setup-stamp"
want="$( (cat "$ROOT"/requirements/*.txt "$ROOT/setup.py" "${BASH_SOURCE[0]}";
          echo "${torch_args[*]} $mmcv_flavour") | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  log "environment up to date ($VENV)"
  exit 0
fi

"${PIP[@]}" install -q wheel ninja
log "installing torch==$TORCH_VERSION torchvision==$TORCHVISION_VERSION" \
  "from ${torch_index:-PyPI} (a few minutes when not cached: the CUDA build is large)"
"${PIP[@]}" install -q "${torch_args[@]}"

# numpy before the mmcv build so that it compiles against the pinned one.
log "installing the runtime requirements"
"${PIP[@]}" install -q -r "$ROOT/requirements/runtime.txt"

mmcv_wheel="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
if [ -z "$mmcv_wheel" ]; then
  build="$(mktemp -d)"
  trap 'rm -rf "$build"' EXIT
  mkdir -p "$CACHE"
  build_log="$CACHE/mmcv-$MMCV_VERSION-$mmcv_flavour-build.log"
  log "building mmcv $MMCV_VERSION with its $mmcv_flavour ops from source, once per machine" \
    "(about 10 minutes on 2 cores; compiler output: $build_log)"
  # mmcv 2.1.0's setup.py needs an old setuptools (< 70), torch a new one (>= 77.0.3). The
  # old one goes into a folder of its own, first on PYTHONPATH for the build alone, so the
  # venv keeps torch's (pip would still compare that folder with the venv's packages and
  # report torch's requirement as a conflict: it is not one, the folder is not installed).
  build_tools="$build/setuptools-for-mmcv"
  "${PIP[@]}" install -q --no-warn-conflicts --target "$build_tools" 'setuptools<70'
  "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$build"
  tar -xzf "$build"/mmcv-"$MMCV_VERSION".tar.gz -C "$build"
  # torch >= 2.10 headers need C++20; mmcv 2.1.0 hard-codes C++17.
  sed -i 's/-std=c++17/-std=c++20/g' "$build/mmcv-$MMCV_VERSION/setup.py"
  mkdir -p "$WHEELS"
  started=$(date +%s)
  if ! (cd "$build/mmcv-$MMCV_VERSION" &&
    env "${mmcv_build_env[@]}" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
      PYTHONPATH="$build_tools${PYTHONPATH:+:$PYTHONPATH}" \
      "${PIP[@]}" wheel -v --no-build-isolation --no-deps . -w "$build/dist") >"$build_log" 2>&1; then
    tail -n 30 "$build_log" >&2
    die "the mmcv build failed; the whole compiler output is in $build_log"
  fi
  # Copied under a name the lookup above does not match, then renamed: /tmp and the cache
  # may be different file systems, and a half-copied wheel would be taken on every later run.
  built="$(ls "$build"/dist/mmcv-*.whl | head -n 1)"
  cp "$built" "$WHEELS/.partial-$(basename "$built")"
  mv "$WHEELS/.partial-$(basename "$built")" "$WHEELS/$(basename "$built")"
  mmcv_wheel="$(ls "$WHEELS"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
  log "built $mmcv_wheel in $(( ($(date +%s) - started) / 60 )) min"
fi
log "installing $mmcv_wheel"
# The runtime pins constrain what mmcv's own requirements (opencv, numpy) pull in.
"${PIP[@]}" install -q "$mmcv_wheel" -c "$ROOT/requirements/runtime.txt"

log "installing OpenMMLab packages, test and optional requirements (about a minute)"
"${PIP[@]}" install -q -c "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/mminstall.txt" \
  -r "$ROOT/requirements/tests.txt" -r "$ROOT/requirements/optional.txt"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e "$ROOT"

"$PY" - <<'PY'
import mmcv, mmcv.ops, mmengine, mmseg, mmpretrain, torch, kdas  # noqa: F401
cuda = (f'CUDA {torch.version.cuda} build, GPU available: {torch.cuda.is_available()}'
        if torch.version.cuda else 'CPU build')
print(f'[setup_env] ok: torch {torch.__version__} ({cuda}), mmcv {mmcv.__version__}, '
      f'mmengine {mmengine.__version__}, mmseg {mmseg.__version__}, '
      f'mmpretrain {mmpretrain.__version__}')
PY
echo "$want" > "$stamp"
