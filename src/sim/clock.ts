/**
 * Virtual time. Every time value in lvslab is an integer number of microseconds
 * since the start of a run; nothing below the CLI reads the wall clock.
 */
export type Micros = number;

export const US_PER_MS = 1_000;
export const US_PER_SEC = 1_000_000;

export function seconds(s: number): Micros {
  return Math.round(s * US_PER_SEC);
}

export function millis(ms: number): Micros {
  return Math.round(ms * US_PER_MS);
}

/** A source of the current virtual time: what the engine and stacks are given. */
export interface Clock {
  now(): Micros;
}
