/**
 * `lvslab exec`'s standard streams for a command on a lab host (simulated, or the
 * real-mode director). Standard input: whatever a pipe or file gives, as a shell would;
 * nothing from a terminal (the command sees end of input, as `ipvsadm -R` typed at a prompt
 * would after Ctrl-D). Commands on lvslab's hosts read their standard input whole, so it is
 * read to its end before the command starts, up to MAX_STDIN_BYTES. Output into a pipe whose
 * reader went away (`| head -3`) ends `exec` as SIGPIPE ends a real command.
 */
import { fstatSync } from "node:fs";
import { isatty } from "node:tty";
import { StringDecoder } from "node:string_decoder";

/** The most standard input a command on an lvslab host is given (16 MiB). */
export const MAX_STDIN_BYTES = 16 << 20;

export function stdinTooLargeMessage(limit = MAX_STDIN_BYTES): string {
  return `standard input is larger than ${limit} bytes, the most a command on an lvslab host reads`;
}

/** Process's standard input when it should be forwarded: a pipe, a file, a socket; not a terminal nor a closed fd 0. */
export function forwardedStdin(): NodeJS.ReadableStream | undefined {
  try {
    fstatSync(0);
  } catch {
    return undefined; // fd 0 closed
  }
  if (isatty(0)) return undefined;
  return process.stdin;
}

/**
 * Text chunks of `src` as they arrive (UTF-8 sequences split between reads are kept whole);
 * throws StdinTooLarge once more than `limit` bytes came.
 */
export async function* stdinChunks(src: AsyncIterable<Buffer | string> | Iterable<Buffer | string>, limit = MAX_STDIN_BYTES): AsyncGenerator<string> {
  const dec = new StringDecoder("utf8");
  let n = 0;
  for await (const chunk of src) {
    const b = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    n += b.length;
    if (n > limit) throw new StdinTooLarge(limit);
    const s = dec.write(b);
    if (s !== "") yield s;
  }
  const tail = dec.end();
  if (tail !== "") yield tail;
}

export class StdinTooLarge extends Error {
  constructor(readonly limit: number) {
    super(stdinTooLargeMessage(limit));
  }
}

/** All of `src` as text; throws StdinTooLarge past `limit` bytes. */
export async function readStdinText(src: AsyncIterable<Buffer | string>, limit = MAX_STDIN_BYTES): Promise<string> {
  let text = "";
  for await (const s of stdinChunks(src, limit)) text += s;
  return text;
}

/**
 * Exit with status 141 (128 + SIGPIPE), quietly, when stdout or stderr is a pipe nobody
 * reads any more: what a real command writing there gets. Node ignores SIGPIPE and reports
 * EPIPE instead. A control connection closes with the process, which stops the command on
 * the director.
 */
export function exitOnBrokenPipe(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(141);
      throw e;
    });
  }
}
