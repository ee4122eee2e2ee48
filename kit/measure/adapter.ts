// The kit's adapter part: the WebGPU adapter this machine gives Dawn (vendor, architecture, device,
// whether it is a software one, its features and every limit), as one "adapter" line.
//
//   node app/adapter.mjs        (in the kit; node --import tsx kit/measure/adapter.ts in a checkout)
import { openAdapter } from "../../runtime/webgpu/adapter.js";
import { emit, reportFailures } from "./lines.js";

reportFailures();
const { info, features, limits } = await openAdapter();
emit({ type: "adapter", ...info, software: info.software ?? null, features, limits });
// Dawn's instance would keep Node running.
process.exit(0);
