#!/bin/sh
# Installs what the PyTorch side (runtime/torch/*.py, bench/reference/*.py) needs, from Debian's archive: PyTorch and
# numpy for the system interpreter /usr/bin/python3, and the pthread build of OpenBLAS, which Debian's
# torch reaches through libblas.so.3 for its float32 matrix products. Also the OpenMP build of OpenBLAS,
# which the benchmark puts first with LD_LIBRARY_PATH as a second thread setup (one OpenMP pool for torch
# and OpenBLAS); its alternatives priority (95) is below the pthread build's (100), so installing it
# leaves the system's libblas.so.3 as it was.
#
# Debian packages rather than pip: the reference must run on a plain Debian machine (and CI) with no
# access to PyPI, and Debian's torch is linked against the system OpenBLAS we want to measure.
#
# Idempotent and silent when everything is already there; otherwise runs apt-get update and install
# (as root, or through sudo when not root). Exits non-zero if torch still cannot be imported afterwards.
set -eu

PYTHON=/usr/bin/python3
PACKAGES="python3-torch python3-numpy libopenblas0-pthread libopenblas0-openmp"

have_torch() {
	[ -x "$PYTHON" ] && "$PYTHON" -c "import torch, numpy" >/dev/null 2>&1
}

have_openblas() {
	# dpkg knows whether the packages are installed; ldconfig is the fallback off dpkg.
	if command -v dpkg-query >/dev/null 2>&1; then
		for p in libopenblas0-pthread libopenblas0-openmp; do
			dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "ok installed" || return 1
		done
	else
		ldconfig -p 2>/dev/null | grep -q "libopenblas"
	fi
}

if have_torch && have_openblas; then
	exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
	echo "setup.sh: $PYTHON cannot import torch (or OpenBLAS is missing), and there is no apt-get to install" >&2
	echo "setup.sh: $PACKAGES; install the equivalents by hand" >&2
	exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "setup.sh: installing $PACKAGES needs root, and sudo is not available" >&2
		exit 1
	fi
fi

echo "setup.sh: installing $PACKAGES (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086 # PACKAGES is a word list on purpose
$SUDO apt-get install -y -qq --no-install-recommends $PACKAGES >/dev/null

if ! have_torch; then
	echo "setup.sh: the packages are installed but $PYTHON still cannot import torch:" >&2
	"$PYTHON" -c "import torch, numpy" >&2 || true
	exit 1
fi
echo "setup.sh: $("$PYTHON" -c 'import torch; print("torch", torch.__version__)') ready under $PYTHON" >&2
