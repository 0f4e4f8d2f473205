/**
 * Replays test/golden/kernel/ipvsadm-names.sh — ipvsadm 1.31 on real Linux 6.1: names
 * without -n (/etc/hosts and /etc/services), --pe sip, -o, -b, fwmark, the sync daemons'
 * listing with their options, and a save/restore round trip — on the director of
 * labs/lvs-nat.yaml, with the script's /etc/hosts. Every command's
 * output (stdout and stderr) and exit status must be the golden's.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { runCommand, sleepWorld } from "../src/lab/runner.js";
import { readFileSync } from "node:fs";
import { buildLabFile, repoPath } from "./helpers.js";

const GOLDEN = "test/golden/kernel/ipvsadm-names.out";

test("ipvsadm-names golden: names, --pe sip, -o, daemons and save/restore print as ipvsadm 1.31 on Linux 6.1", async () => {
  // Sections in order (titles repeat: -S -n twice, -L --daemon three times).
  const g: Array<[string, string]> = [];
  for (const line of readFileSync(repoPath(GOLDEN), "utf8").split("\n")) {
    if (line.startsWith("### ")) g.push([line.slice(4), ""]);
    else if (g.length > 0 && line !== "") g[g.length - 1]![1] += line + "\n";
  }
  const lab = buildLabFile("labs/lvs-nat.yaml");
  const vip = lab.hosts.get("vip")!;
  const run = async (line: string) => {
    await sleepWorld(lab.world, 5_000);
    const r = await runCommand(vip, line);
    return { text: r.io.text, exit: r.exit };
  };
  // The script's /etc/hosts: the lab's names, with vip on its outside address (the lab's
  // own file names the director by its first address, 192.168.1.186).
  const hosts = "127.0.0.1\tlocalhost\n192.168.75.131 vip\n192.168.1.185 real_server1\n192.168.1.190 real_server2\n";
  assert.equal((await run(`printf '${hosts}' > /etc/hosts`)).exit, 0);
  const diffs: string[] = [];
  let firstSaveN: string | undefined;
  let replayed = 0;
  for (const [title, want] of g) {
    if (title === "end") continue;
    let got: string;
    if (title === "ipvsadm -R < (ipvsadm -S)") {
      const r = await run("ipvsadm -R < /tmp/saved");
      got = `${r.text}exit=${r.exit}\n`;
    } else if (title.startsWith("ipvsadm ")) {
      const r = await run(title);
      got = `${r.text}exit=${r.exit}\n`;
      if (title === "ipvsadm -S -n" && firstSaveN === undefined) {
        firstSaveN = r.text;
        assert.equal((await run("ipvsadm -S > /tmp/saved")).exit, 0);
      }
    } else if (title === "diff with the first -S -n") {
      got = (await run("ipvsadm -S -n")).text === firstSaveN ? "same\n" : "differs\n";
    } else {
      assert.fail(`golden section "${title}" is not replayed`);
    }
    if (got !== want) diffs.push(`### ${title}\n--- got\n${got}--- want\n${want}`);
    replayed++;
  }
  assert.ok(replayed >= 35);
  assert.deepEqual(diffs, []);
});
