// Virtual and real time as data: integer microseconds. The core never reads a clock; drivers
// pass `now` in. Microseconds in a double are exact for 285 years.

/** A point in time, integer microseconds since an arbitrary epoch chosen by the driver. */
export type Instant = number & { readonly __instant: unique symbol };
/** A span of time in integer microseconds. */
export type Duration = number & { readonly __duration: unique symbol };

/** The driver's epoch. */
export const EPOCH = 0 as Instant;

/** A duration of `n` microseconds. */
export const micros = (n: number): Duration => Math.round(n) as Duration;
/** A duration of `n` milliseconds. */
export const millis = (n: number): Duration => Math.round(n * 1_000) as Duration;
/** A duration of `n` seconds. */
export const seconds = (n: number): Duration => Math.round(n * 1_000_000) as Duration;

/** `t + d`. */
export const after = (t: Instant, d: Duration): Instant => (t + d) as Instant;
/** `a - b` as a duration (negative when `a` is earlier). */
export const since = (a: Instant, b: Instant): Duration => (a - b) as Duration;
/** The earlier of two optional instants; undefined only when both are. */
export function earliest(a: Instant | undefined, b: Instant | undefined): Instant | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a < b ? a : b;
}
/** Milliseconds as a float, for display. */
export const toMillis = (d: Duration | Instant): number => d / 1_000;
/** Seconds as a float, for display. */
export const toSeconds = (d: Duration | Instant): number => d / 1_000_000;
/** Formats an instant as seconds with microsecond precision: `12.000345`. */
export function formatInstant(t: Instant): string {
  const s = Math.floor(t / 1_000_000);
  const us = String(t - s * 1_000_000).padStart(6, '0');
  return `${s}.${us}`;
}
