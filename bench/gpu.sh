#!/usr/bin/env bash
# WebGPU on a GPU: the adapter's info, features and limits; one baby GPT (specs/12-baby-gpt.yaml) and one
# lecture GPT (specs/11-gpt.yaml) training step on `--backend webgpu`, each the median of several; and,
# where `python3 -c 'import torch; torch.cuda.is_available()'` holds, the same models in PyTorch on CUDA
# (the generated modules of generated/torch/: nanoGPT's fused q, k, v projection and batched heads), with
# the ratios. The goal on an H200-class GPU: the lecture GPT at ≤ 60 ms per iteration.
#
#   bash bench/gpu.sh
#
# For a Linux machine with an NVIDIA GPU and no network: this checkout with node_modules already in it
# (npm ci done elsewhere: it holds tfjs, tsx and the webgpu package with its prebuilt dawn.node), a Node 20
# binary, the GPU's Vulkan driver (NVIDIA's driver ships its Vulkan ICD) and the Vulkan loader
# (libvulkan.so.1). Nothing is installed, compiled or downloaded; the native addon and the corpus are not
# needed (the steps train on random tokens). PyTorch is optional: BABYGPT_PYTHON, else /usr/bin/python3,
# else python3 on PATH.
#
# Each part has its own time limit (30 s, 120 s, 240 s, 2 × 90 s), so the script ends within 10 minutes.
# Prints a summary table and writes bench/results/gpu-<date>.json.
set -euo pipefail
cd "$(dirname "$0")/.."

fail() {
	echo "gpu.sh: $*" >&2
	exit 1
}
command -v node >/dev/null 2>&1 || fail "needs Node 20 (node is not on PATH)"
[ -d node_modules/@tensorflow/tfjs-backend-webgpu ] || fail "needs node_modules with @tensorflow/tfjs-backend-webgpu in $(pwd): run npm ci on a machine with the npm registry and copy the checkout"
arch="$(node -p 'process.platform + "-" + process.arch')"
[ -f "node_modules/webgpu/dist/$arch/dawn.node" ] || fail "no node_modules/webgpu/dist/$arch/dawn.node (the webgpu package's prebuilt Dawn)"
vulkan_loader() {
	local known f
	known="$(ldconfig -p 2>/dev/null || true)"
	[[ "$known" == *"libvulkan.so.1 "* ]] && return 0
	for f in /usr/lib/*/libvulkan.so.1 /usr/lib64/libvulkan.so.1 /usr/lib/libvulkan.so.1; do
		[ -e "$f" ] && return 0
	done
	return 1
}
vulkan_loader || fail "no Vulkan loader (libvulkan.so.1): install libvulkan1 and the GPU's Vulkan driver"

# Dawn and Mesa want a runtime directory; a service or an ssh command may have none.
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
	XDG_RUNTIME_DIR="$(mktemp -d)"
	chmod 700 "$XDG_RUNTIME_DIR"
	export XDG_RUNTIME_DIR
	trap 'rm -rf "$XDG_RUNTIME_DIR"' EXIT
fi

python="${BABYGPT_PYTHON:-}"
if [ -z "$python" ]; then
	if [ -x /usr/bin/python3 ]; then python=/usr/bin/python3; else python="$(command -v python3 || echo python3)"; fi
fi
if command -v nvidia-smi >/dev/null 2>&1; then
	echo "== nvidia-smi"
	nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
	echo
fi
exec timeout 600 node --import tsx bench/gpu.ts --python "$python" "$@"
