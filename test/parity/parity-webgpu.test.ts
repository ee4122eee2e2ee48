// Parity with PyTorch on the webgpu backend: this project's WGSL kernels and tfjs-webgpu's shaders for
// everything else. Skipped with the reason where there is no adapter, unless BABYGPT_REQUIRE_WEBGPU=1 (as
// CI sets it).
//
// In CI the adapter is lavapipe, WebGPU on the CPU, where each new shader (tfjs-webgpu makes one per
// program and shape) is compiled by LLVM: measured here, the first step of 09-layernorm takes ~35 s with
// a cold shader cache (1.5 s warm), and all 14 specs take ~6 minutes, too much of CI's 15. So CI checks two
// specs that between them take every kernel this backend adds: 01-bigram (embedding, cross-entropy, the
// three optimizers' update) and 09-layernorm (layer norm and all-heads attention in pre-norm residual
// blocks, the architecture of the larger specs). test/webgpu/kernels.test.ts checks each kernel alone,
// attention at T = 64 and with dropout, and the gradient norm. The specs left out differ from these in
// layers tfjs-webgpu's own shaders run (a lone head's softmax, GELU, sinusoidal positions).
// BABYGPT_WEBGPU_PARITY=all runs every spec (on a real GPU it takes seconds).
import { webgpuUnavailable } from "../helpers/webgpu.js";
import { parityTests } from "./suite.js";

const CI_SPECS = ["01-bigram.yaml", "09-layernorm.yaml"];

parityTests("webgpu", await webgpuUnavailable(), process.env["BABYGPT_WEBGPU_PARITY"] === "all" ? undefined : CI_SPECS);
