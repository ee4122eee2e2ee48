// Colors for the terminal (the numbers and tables are util/format.ts's).

/**
 * Whether to color what goes to `stream`: never with NO_COLOR set (no-color.org), always with
 * FORCE_COLOR set to anything but 0, else on a terminal only.
 */
export function useColor(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env["NO_COLOR"]) return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  return stream.isTTY === true;
}
