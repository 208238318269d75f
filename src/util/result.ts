// Result values for untrusted input: parsers return a reason instead of throwing.

/** A success carrying a value. */
export interface Ok<T> { readonly ok: true; readonly value: T }
/** A failure carrying a reason. */
export interface Err<E> { readonly ok: false; readonly error: E }
/** Either a value or a reason it could not be produced. */
export type Result<T, E> = Ok<T> | Err<E>;

/** Wraps a value as a success. */
export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
/** Wraps a reason as a failure. */
export const err = <E>(error: E): Err<E> => ({ ok: false, error });

/** Marks a switch as exhaustive: the compiler rejects a missing case, and a bad value at run time throws. */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
