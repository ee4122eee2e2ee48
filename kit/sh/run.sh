#!/usr/bin/env bash
# babygpt's GPU kit: measures what this machine's GPU does with babygpt and writes one results file.
#
#   ./run.sh [--budget SECONDS] [--out DIR] [--parts webgpu,kernels,torch,full]
#
# The GPUs (nvidia-smi); the WebGPU adapter; the baby GPT's and the lecture GPT's training step on
# WebGPU and by the torch engine on CUDA (Python 3 with a CUDA build of PyTorch: BABYGPT_PYTHON, else
# /usr/bin/python3, else python3 on PATH), with the ratios; each WGSL kernel against tfjs-webgpu's
# composite; then, where the budget (default 8 minutes) has room, the lecture GPT's whole training by the
# torch engine with its exact validation loss. Everything it runs is in this folder: Node, the code,
# Dawn, the Vulkan loader, the specs and the corpus. It installs nothing and needs no network.
set -uo pipefail
KIT="$(cd "${BASH_SOURCE[0]%/*}" && pwd)"
# shellcheck source=host.sh
source "$KIT/host.sh"
if [ -n "$KIT_MISSING" ]; then
	echo "run.sh: $KIT_MISSING" >&2
else
	echo "run.sh: this machine has what the kit needs (glibc $kit_glibc; ${kit_nvidia:-NVIDIA driver}; Vulkan: $BABYGPT_KIT_VULKAN_DRIVER)" >&2
fi
exec "$KIT/node" "$KIT/app/gpu-kit.mjs" "$@"
