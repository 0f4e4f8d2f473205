import { test } from "node:test";
import assert from "node:assert/strict";
import { buildLabFile } from "./helpers.js";
import { runCommand } from "../src/lab/runner.js";

test("Ctrl-C ends the rest of the line when the command died of it, as bash does; not when it caught it", async () => {
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const client = lab.hosts.get("client")!;
  // A step over its limit is interrupted as Ctrl-C would.
  for (const line of ["sleep 30; echo slept", "sleep 30 || echo failed", "sleep 30 && echo done; echo next", "{ sleep 30; echo inner; }; echo outer"]) {
    const r = await runCommand(client, line, { limitUs: 1_000_000 });
    assert.equal(r.timedOut, true, line);
    assert.equal(r.exit, 130, line);
    assert.equal(r.io.text.replace(/\^C\n?/, ""), "", `${line}: nothing after the interrupted command`);
  }
  // tcpdump catches SIGINT, prints its summary and exits 0: the shell goes on.
  const t = await runCommand(client, "tcpdump -nn -i eth0 host 10.9.9.9; echo after $?", { limitUs: 1_000_000 });
  assert.equal(t.exit, 0);
  assert.match(t.io.text, /0 packets captured\n[\s\S]*after 0\n$/);
  // After that, a status over 128 for another reason is only a status (bash exits only when
  // the command it waited for died of the Ctrl-C).
  const later = await runCommand(client, "tcpdump -nn -i eth0 host 10.9.9.9; (exit 200) || echo failed; if (exit 130); then :; else echo else; fi; echo end", { limitUs: 1_000_000 });
  assert.equal(later.exit, 0);
  assert.match(later.io.text, /\nfailed\nelse\nend\n$/);
});
