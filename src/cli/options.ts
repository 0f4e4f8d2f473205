/**
 * Reading a command's own long options (`--name VALUE` or `--name=VALUE`) one at a time, as
 * `lvslab explain` and `lvslab export` take theirs.
 */
export interface OptionReader {
  /** The option as typed (`--conn=3`), its name (`--conn`), and its value when asked for. */
  next(): { raw: string; name: string; value: () => string | undefined } | undefined;
}

export function optionReader(opts: readonly string[]): OptionReader {
  let i = 0;
  return {
    next() {
      if (i >= opts.length) return undefined;
      const raw = opts[i++]!;
      const eq = raw.indexOf("=");
      const long = raw.startsWith("--") && eq > 0;
      const inline = long ? raw.slice(eq + 1) : undefined;
      return { raw, name: long ? raw.slice(0, eq) : raw, value: () => inline ?? opts[i++] };
    },
  };
}
