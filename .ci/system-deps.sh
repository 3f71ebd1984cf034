#!/usr/bin/env bash
# Install the system programs autograd_lite needs, through the system package manager.
#   .ci/system-deps.sh demo   Graphviz's `dot` (drawing) and Python's venv module
#   .ci/system-deps.sh test   the same, plus Chromium and its driver (tests of the HTML stepper)
set -euo pipefail
want=${1:-demo}

missing=()
command -v dot >/dev/null 2>&1 || missing+=(graphviz)
python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=("python3-venv")
if [[ $want == test ]]; then
  command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
fi
((${#missing[@]})) || exit 0

say_how() {
  echo "autograd_lite needs: ${missing[*]}" >&2
  echo "Install them with your system's package manager, e.g.:" >&2
  echo "  sudo apt-get install ${missing[*]}        (Debian/Ubuntu)" >&2
  echo "  brew install graphviz                       (macOS; Chromium only for the browser tests)" >&2
  exit 1
}
command -v apt-get >/dev/null 2>&1 || say_how
if [[ $(id -u) -eq 0 ]]; then sudo=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else say_how; fi

# python3-venv is versioned on Debian/Ubuntu (python3.11-venv, ...)
for i in "${!missing[@]}"; do
  if [[ ${missing[$i]} == python3-venv ]]; then
    missing[$i]="python$(python3 -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')-venv"
  fi
done
echo "Installing ${missing[*]} with apt-get ..."
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" fonts-dejavu-core >/dev/null \
  || say_how
