#!/usr/bin/env bash
# Sets up this bundle: the Rust kernel for Jupyter (evcxr_jupyter, built once with cargo), a
# Python environment with JupyterLab in .venv/, and the kernel registered inside it (your own
# Jupyter kernels are not touched). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")"
root="$(pwd)"
command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust from https://rustup.rs" >&2; exit 1; }
command -v python3 >/dev/null || { echo "setup: python3 not found: install Python 3 with venv and pip" >&2; exit 1; }
evcxr="$(command -v evcxr_jupyter || true)"
[ -n "$evcxr" ] || evcxr="${CARGO_HOME:-$HOME/.cargo}/bin/evcxr_jupyter"
if [ ! -x "$evcxr" ]; then
  echo "setup: building evcxr_jupyter 0.22.0 (about 8 minutes, once)"
  cargo install evcxr_jupyter --version 0.22.0 --locked
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
echo "setup: installing JupyterLab into .venv/"
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tools/requirements.txt
kernels=.venv/share/jupyter/kernels/rust
JUPYTER_PATH="$root/.venv/share/jupyter" "$evcxr" --install >/dev/null
cat > "$kernels/kernel.json" <<JSON
{
  "argv": ["$root/.venv/bin/python", "$root/tools/kernel.py", "$evcxr", "--control_file", "{connection_file}"],
  "env": {"ELBO_ROOT": "$root"},
  "display_name": "Rust",
  "language": "rust",
  "interrupt_mode": "message"
}
JSON
echo "setup: done. Start JupyterLab with ./lab.sh"
