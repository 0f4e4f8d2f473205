/**
 * Reading a lab file from disk, for every command that takes one (run, exec, shell, explain,
 * up, director --lab): one wording for why it could not be read, from the errno rather than
 * always "no such file" (a directory or an unreadable file is a different mistake).
 */
import { readFileSync } from "node:fs";

/**
 * The file's text, or the reason it cannot be read ("cannot read lab file PATH: ...");
 * `bundled`: the caller also looked for a bundled lab of that name, so a bare name says so.
 */
export function readLabFile(path: string, bundled = false): { text: string } | { error: string } {
  try {
    return { text: readFileSync(path, "utf8") };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT" ? (!bundled || /[/.]/.test(path) ? "no such file" : "no such file, nor a bundled lab of that name (lvslab labs lists them)")
      : code === "EISDIR" ? "it is a directory; give one of its .yaml files"
      : code === "EACCES" ? "permission denied"
      : (e as Error).message;
    return { error: `cannot read lab file ${path}: ${why}` };
  }
}
