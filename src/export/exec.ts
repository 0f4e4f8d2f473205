/** One command on a lab host after its steps, for an export to read what the host has. */
import type { Host } from "../net/host.js";
import { Transcript } from "../lab/runner.js";

export async function runOnHost(host: Host, argv: string[]): Promise<{ exit: number; stdout: string; stderr: string }> {
  const io = new Transcript();
  const r = await host.exec(argv, io);
  return { exit: r === "not-found" ? 127 : r, stdout: io.stdoutText, stderr: io.stderrText };
}
