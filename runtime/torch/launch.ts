// The torchrun command line: one machine (torchrun --standalone's c10d rendezvous, on a port chosen free
// here rather than its fixed 29400, so two runs on one machine do not collide), or several machines
// (--nnodes, --node-rank and --rdzv-endpoint passed through, as nanoGPT's multi-node commands use them).
import { createServer } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { UserError } from "../errors.js";

export interface Rendezvous {
  readonly nproc: number;
  readonly nnodes: number;
  readonly nodeRank: number;
  /** host:port of node 0, for several machines (or to pick the port on one). */
  readonly endpoint?: string | undefined;
}

/** Resolves once the port can be listened on here, with false when it is taken. */
function portIsFree(port: number, host?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, ...(host ? { host } : {}), exclusive: true }, () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function isLocalHost(host: string): boolean {
  if (["localhost", "127.0.0.1", "::1", "0.0.0.0", hostname()].includes(host)) return true;
  return Object.values(networkInterfaces()).some((list) => (list ?? []).some((i) => i.address === host));
}

/** `host:port` → its parts, or a UserError naming the flag. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(endpoint);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new UserError(`--rdzv-endpoint needs host:port (the address of node 0), e.g. 10.0.0.1:29500; got "${endpoint}"`);
  return { host: m[1]!.replace(/^\[|\]$/g, ""), port };
}

/**
 * torchrun's own arguments (before the script). Node 0 hosts the rendezvous: when its endpoint is on this
 * machine and the port is taken, that is said now, in one line, instead of by a torchrun traceback.
 */
export async function torchrunArguments(r: Rendezvous, runId: string, logDir: string): Promise<string[]> {
  // Each rank's stderr goes to <logDir>/…/<rank>/stderr.log and, through --tee, to torchrun's stderr as
  // well; stdout, which carries rank 0's events, passes straight through. Explicit values also avoid the
  // defaults ("0"), which Debian's torch 1.13 cannot parse under Python 3.11 (its Std flag enum does not
  // iterate its zero member there, so torchrun fails before starting any worker).
  const common = ["--nproc_per_node", String(r.nproc), "--max_restarts", "0", "--monitor_interval", "0.5", "--redirects", "2", "--tee", "2", "--log_dir", logDir];
  if (r.nnodes === 1 && r.endpoint === undefined) {
    const port = await freePort();
    return ["--nnodes", "1", ...common, "--rdzv_backend", "c10d", "--rdzv_endpoint", `127.0.0.1:${port}`, "--rdzv_id", runId];
  }
  if (r.endpoint === undefined) throw new UserError(`--nnodes ${r.nnodes} needs --rdzv-endpoint host:port, the address of node 0 that every node can reach`);
  const { host, port } = parseEndpoint(r.endpoint);
  if (r.nodeRank === 0 && isLocalHost(host) && !(await portIsFree(port))) {
    throw new UserError(`--rdzv-endpoint ${r.endpoint}: port ${port} is already in use on this machine (another torchrun, or another program); choose another port`);
  }
  return ["--nnodes", String(r.nnodes), "--node_rank", String(r.nodeRank), ...common, "--rdzv_endpoint", r.endpoint];
}
