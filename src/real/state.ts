/**
 * What `lvslab up` created, written down before it is created, so that `lvslab down`
 * removes exactly that — even when `up` was killed halfway (SIGKILL leaves no chance to
 * clean up, so the record must already be on disk).
 *
 * The record is a journal of JSON lines in STATE_ROOT/<lab>/journal, appended and fsynced
 * one entry at a time. A torn last line (killed while writing) is ignored: the entry it
 * would have recorded was not acted on yet.
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readdirSync, writeSync } from "node:fs";
import { join } from "node:path";

/** Where labs that are up keep their state, files and logs (tmpfs: gone after a reboot, as the namespaces are). */
export let STATE_ROOT = process.env.LVSLAB_STATE_DIR ?? "/run/lvslab";

/**
 * Keep labs' state under `dir` from now on (`lvslab run --real` beside a lab that is up);
 * the environment carries it to the lvslab processes started meanwhile.
 */
export function setStateRoot(dir: string): void {
  STATE_ROOT = dir;
  process.env.LVSLAB_STATE_DIR = dir;
}

export type JournalEntry =
  /** The lab itself: its name, file and namespace prefix (first entry). */
  | { kind: "lab"; name: string; file: string; id: string }
  /** A network namespace (`ip netns add NAME`). */
  | { kind: "netns"; name: string }
  /** A process started in a namespace; `start` (from /proc/PID/stat) tells it from a later process with the same pid. */
  | { kind: "proc"; pid: number; start: string; ns: string; host: string; what: string }
  /** A host's lab files and logs live under `dir`. */
  | { kind: "hostdir"; host: string; dir: string }
  /** The IPVS director's control socket for `lvslab exec`. */
  | { kind: "director"; host: string; ns: string; control: string }
  /** `up` finished. */
  | { kind: "ready" };

export function labDir(labName: string): string {
  return join(STATE_ROOT, labName);
}

export function journalPath(labName: string): string {
  return join(labDir(labName), "journal");
}

export function appendJournal(labName: string, e: JournalEntry): void {
  const fd = openSync(journalPath(labName), "a");
  try {
    writeSync(fd, JSON.stringify(e) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readJournal(labName: string): JournalEntry[] {
  const p = journalPath(labName);
  if (!existsSync(p)) return [];
  const out: JournalEntry[] = [];
  for (const line of readFileSync(p, "utf8").split("\n")) {
    if (line === "") continue;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      // a torn last line: that action had not started
    }
  }
  return out;
}

/** Labs with state on this machine (up, or left half-up by a killed `up`). */
export function labsWithState(): string[] {
  if (!existsSync(STATE_ROOT)) return [];
  return readdirSync(STATE_ROOT, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(STATE_ROOT, d.name, "journal")))
    .map((d) => d.name)
    .sort();
}
