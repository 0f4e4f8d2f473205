/**
 * The outcome of parsing bytes. Parsers never throw: malformed input is a value, and its
 * `error` is a short stable name ("truncated", "bad-version", "bad-checksum", …) that the
 * network layer uses directly as a drop reason.
 */
export type WireResult<T> = { ok: true; value: T } | { ok: false; error: string };

export function wireOk<T>(value: T): WireResult<T> {
  return { ok: true, value };
}

export function wireErr<T = never>(error: string): WireResult<T> {
  return { ok: false, error };
}
