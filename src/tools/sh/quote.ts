/** How bash quotes a word when it shows it back (xtrace, `set`). */
export function bashQuote(s: string): string {
  if (s === "") return "''";
  if (!/[\s'"\\|&;()<>!{}*[\]?^$`]/.test(s) && !/^[~#]/.test(s)) return s;
  return `'${s.replace(/'/g, "'\\''")}'`;
}
