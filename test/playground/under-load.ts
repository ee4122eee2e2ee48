// The browser test with the cores kept busy: `node --import tsx test/playground/under-load.ts [--loops N]`
// starts N busy loops (default: one per core, at the test's own priority, so they compete with it as other
// work on a shared CI machine does), runs test/playground/browser.test.ts under BABYGPT_REQUIRE_BROWSER=1,
// stops the loops and exits with the test's status. It shows that the test waits on the page's states and
// not on wall-clock guesses: it failed once at playwright's 30 s default while other work shared the two
// cores. Not part of `npm test` (it is slow by design); run it after changing the browser test or the page.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { availableParallelism, loadavg } from "node:os";
import { join } from "node:path";
import { PROJECT_ROOT } from "../../runtime/paths.js";

const flag = process.argv.indexOf("--loops");
const loops = flag >= 0 ? Number(process.argv[flag + 1]) : availableParallelism();
if (!Number.isInteger(loops) || loops < 0) {
  console.error(`--loops needs a whole number, got ${process.argv[flag + 1]}`);
  process.exit(2);
}

const busy: ChildProcess[] = [];
for (let i = 0; i < loops; i++) busy.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
const stop = (): void => {
  for (const c of busy) c.kill("SIGKILL");
};
process.on("exit", stop);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(130));

console.error(`${loops} busy loops running (pids ${busy.map((c) => c.pid).join(", ")}); load average ${loadavg()[0]!.toFixed(1)}`);
const started = performance.now();
const test = spawnSync(process.execPath, [join(PROJECT_ROOT, "node_modules/vitest/vitest.mjs"), "run", "test/playground/browser.test.ts"], {
  cwd: PROJECT_ROOT,
  stdio: "inherit",
  env: { ...process.env, BABYGPT_REQUIRE_BROWSER: "1" },
});
const minutes = (performance.now() - started) / 60_000;
console.error(`the browser test ${test.status === 0 ? "passed" : "FAILED"} under ${loops} busy loops in ${minutes.toFixed(1)} min (load average at the end ${loadavg()[0]!.toFixed(1)})`);
stop();
process.exit(test.status ?? 1);
