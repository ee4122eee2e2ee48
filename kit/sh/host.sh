# Sourced by the kit's run.sh and babygpt: checks what the kit needs of this machine and sets up the
# environment its Node runs in. Plain bash with grep, so that it runs on a bare machine. Sets KIT_MISSING
# (one line: what is missing, empty when nothing is) and exports what the results record
# (BABYGPT_KIT_*). Stops only where the kit's Node itself cannot start.
#
# What the kit needs (needs.sh, read from the binaries when the kit was built): a glibc new enough for
# Node, a glibc and a libstdc++ new enough for Dawn's dawn.node (the kit carries a libstdc++ for hosts
# whose own is older, usable where their glibc is new enough for it), and for WebGPU on an NVIDIA GPU the
# NVIDIA driver with its Vulkan ICD (nvidia_icd.json naming libGLX_nvidia.so.0). The Vulkan loader
# (libvulkan.so.1) is the kit's own.

KIT_NODE_GLIBC=2.28 KIT_DAWN_GLIBC=2.34 KIT_DAWN_GLIBCXX=3.4.30 KIT_COMPAT_GLIBC=2.36
# shellcheck source=/dev/null
[ -f "$KIT/needs.sh" ] && source "$KIT/needs.sh"
kit_missing=()
kit_fatal() {
	echo "babygpt kit: $*" >&2
	exit 2
}

# "2.36" < "2.34"? Compares major.minor numerically.
kit_version_lt() {
	local a_major="${1%%.*}" a_minor="${1#*.}" b_major="${2%%.*}" b_minor="${2#*.}"
	a_minor="${a_minor%%.*}"
	b_minor="${b_minor%%.*}"
	((a_major < b_major || (a_major == b_major && a_minor < b_minor)))
}

# ---- glibc ----
kit_glibc=""
if out="$(getconf GNU_LIBC_VERSION 2>/dev/null)"; then
	kit_glibc="${out##* }"
elif out="$(ldd --version 2>/dev/null)"; then
	out="${out%%$'\n'*}"
	kit_glibc="${out##* }"
fi
if [[ "$kit_glibc" =~ ^[0-9]+\.[0-9]+ ]]; then
	kit_version_lt "$kit_glibc" "$KIT_NODE_GLIBC" && kit_fatal "this machine's glibc is $kit_glibc; the kit's Node 20 needs $KIT_NODE_GLIBC or newer"
	kit_version_lt "$kit_glibc" "$KIT_DAWN_GLIBC" && kit_missing+=("glibc $KIT_DAWN_GLIBC for Dawn's dawn.node (this machine has $kit_glibc): no WebGPU parts")
else
	kit_glibc="unknown"
fi

# ---- libstdc++: the host's where it is new enough for dawn.node, else the kit's where glibc allows ----
kit_compat=0
kit_stdcxx=""
for f in /usr/lib/x86_64-linux-gnu/libstdc++.so.6 /lib/x86_64-linux-gnu/libstdc++.so.6 /usr/lib64/libstdc++.so.6 /lib64/libstdc++.so.6 /usr/lib/libstdc++.so.6; do
	[ -e "$f" ] && kit_stdcxx="$f" && break
done
if [ -n "$kit_stdcxx" ] && grep -qa "GLIBCXX_$KIT_DAWN_GLIBCXX" "$kit_stdcxx" 2>/dev/null; then
	BABYGPT_KIT_LIBSTDCXX="the host's ($kit_stdcxx)"
else
	kit_why="${kit_stdcxx:+$kit_stdcxx lacks GLIBCXX_$KIT_DAWN_GLIBCXX, which dawn.node needs}"
	kit_why="${kit_why:-the host has no libstdc++.so.6}"
	if [ "$kit_glibc" != unknown ] && ! kit_version_lt "$kit_glibc" "$KIT_COMPAT_GLIBC"; then
		kit_compat=1
		BABYGPT_KIT_LIBSTDCXX="the kit's ($kit_why)"
	else
		BABYGPT_KIT_LIBSTDCXX="the host's, too old for dawn.node ($kit_why; the kit's own needs glibc $KIT_COMPAT_GLIBC)"
		kit_missing+=("libstdc++ with GLIBCXX_$KIT_DAWN_GLIBCXX for dawn.node ($kit_why, and the kit's own needs glibc $KIT_COMPAT_GLIBC): no WebGPU parts")
	fi
fi
export BABYGPT_KIT_LIBSTDCXX

# ---- the NVIDIA driver and its Vulkan ICD ----
kit_nvidia=""
if [ -r /proc/driver/nvidia/version ]; then
	read -r kit_nvidia </proc/driver/nvidia/version || true
else
	kit_missing+=("an NVIDIA driver (no /proc/driver/nvidia/version): no CUDA, and WebGPU only on a software adapter if any")
fi
kit_icd_dirs=()
IFS=: read -r -a kit_dirs <<<"${XDG_CONFIG_DIRS:-/etc/xdg}"
for d in "${kit_dirs[@]}"; do kit_icd_dirs+=("$d/vulkan/icd.d"); done
kit_icd_dirs+=(/etc/vulkan/icd.d)
IFS=: read -r -a kit_dirs <<<"${XDG_DATA_DIRS:-/usr/local/share:/usr/share}"
for d in "${kit_dirs[@]}"; do kit_icd_dirs+=("$d/vulkan/icd.d"); done
kit_icd=""
kit_others=()
for d in "${kit_icd_dirs[@]}"; do
	for f in "$d"/*.json; do
		[ -e "$f" ] || continue
		case "${f##*/}" in
		nvidia*) [ -z "$kit_icd" ] && kit_icd="$f" ;;
		*) kit_others+=("${f##*/}") ;;
		esac
	done
done
if [ -n "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
	BABYGPT_KIT_VULKAN_DRIVER="as VK_DRIVER_FILES/VK_ICD_FILENAMES say: ${VK_DRIVER_FILES:-$VK_ICD_FILENAMES}"
elif [ -n "$kit_icd" ]; then
	BABYGPT_KIT_VULKAN_DRIVER="$kit_icd"
elif [ -n "$kit_nvidia" ]; then
	# The driver is here but its ICD file is not (a container started without the graphics capability
	# often has neither): where its Vulkan library is, point the loader at it with a file of our own.
	kit_glx=""
	for f in /usr/lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /usr/lib64/libGLX_nvidia.so.0 /usr/lib/libGLX_nvidia.so.0 /lib/x86_64-linux-gnu/libGLX_nvidia.so.0 /lib64/libGLX_nvidia.so.0; do
		[ -e "$f" ] && kit_glx="$f" && break
	done
	kit_own_icd="$KIT/lib/nvidia_icd.json"
	if [ -n "$kit_glx" ] &&
		printf '{"file_format_version":"1.0.0","ICD":{"library_path":"%s","api_version":"1.3.0"}}\n' "$kit_glx" 2>/dev/null >"$kit_own_icd"; then
		export VK_ADD_DRIVER_FILES="$kit_own_icd${VK_ADD_DRIVER_FILES:+:$VK_ADD_DRIVER_FILES}"
		BABYGPT_KIT_VULKAN_DRIVER="$kit_own_icd (written by the kit for $kit_glx: the driver has no nvidia_icd.json here)"
	elif [ -n "$kit_glx" ]; then
		kit_missing+=("NVIDIA's Vulkan ICD file (the driver has $kit_glx but no nvidia_icd.json, and $KIT/lib is not writable to write one)")
		BABYGPT_KIT_VULKAN_DRIVER="none for NVIDIA"
	else
		kit_missing+=("NVIDIA's Vulkan driver (no nvidia_icd.json, no libGLX_nvidia.so.0; in a container, NVIDIA_DRIVER_CAPABILITIES must include graphics): no WebGPU on the GPU")
		BABYGPT_KIT_VULKAN_DRIVER="none for NVIDIA${kit_others[*]:+ (others: ${kit_others[*]})}"
	fi
else
	BABYGPT_KIT_VULKAN_DRIVER="none for NVIDIA${kit_others[*]:+ (others: ${kit_others[*]})}"
fi
export BABYGPT_KIT_VULKAN_DRIVER

# ---- the kit's libraries, its corpus, and a clean Node ----
export LD_LIBRARY_PATH="$KIT/lib$([ "$kit_compat" = 1 ] && echo ":$KIT/lib/compat")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if [ -z "${BABYGPT_DATA_DIR:-}" ] && [ -f "$KIT/data/tinyshakespeare.txt" ]; then
	export BABYGPT_DATA_DIR="$KIT/data"
fi
unset NODE_OPTIONS NODE_PATH
if ! kit_node_says="$("$KIT/node" --version 2>&1)"; then
	kit_fatal "the kit's Node does not start here: ${kit_node_says%%$'\n'*}"
fi

KIT_MISSING=""
if [ ${#kit_missing[@]} -gt 0 ]; then
	KIT_MISSING="missing on this machine: ${kit_missing[0]}"
	for m in "${kit_missing[@]:1}"; do KIT_MISSING+="; $m"; done
fi
export BABYGPT_KIT_MISSING="$KIT_MISSING"
