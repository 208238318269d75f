// How a packetdrill run ends badly, and the exit code each way maps to (packetdrill's own
// convention: 0 pass, 1 the stack did something else than the script said, 2 the script could
// not be run: a syntax error or a construct synack does not support).

/** Why a run did not pass: a failed expectation (exit 1), a parse error or an unsupported construct (exit 2). */
export type FailureKind = 'fail' | 'syntax' | 'unsupported';

/** A run stopped at a line of the script; `message` is the text after `file:line: `. */
export class ScriptError extends Error {
  constructor(readonly kind: FailureKind, readonly line: number, message: string) {
    super(message);
    this.name = 'ScriptError';
  }
}

/** The stack did something other than what the script expects (exit code 1). */
export function fail(line: number, message: string): ScriptError {
  return new ScriptError('fail', line, message);
}

/** The script does not parse (exit code 2). */
export function syntaxError(line: number, message: string): ScriptError {
  return new ScriptError('syntax', line, message);
}

/** The script uses something synack does not implement, or this runner does not emulate (exit code 2). */
export function unsupported(line: number, message: string): ScriptError {
  return new ScriptError('unsupported', line, `unsupported: ${message}`);
}

/** The process exit code for an outcome. */
export function exitCodeOf(kind: FailureKind | 'pass'): 0 | 1 | 2 {
  return kind === 'pass' ? 0 : kind === 'fail' ? 1 : 2;
}

/**
 * Mechanisms the runner does not drive yet (docs/packetdrill.md, "Pending"), by name: a script
 * that needs one reports "unsupported" at the construct that asks for it, so the list of pending
 * scripts stays honest and nothing passes by skipping them. Empty today: SYN cookies, TCP Fast
 * Open and TCP_DEFER_ACCEPT, the last entries, are driven now (their scripts run).
 */
export const PENDING: Readonly<Record<string, string>> = {};

/** The unsupported error for a pending mechanism (a key of PENDING). */
export function pending(line: number, feature: string, construct: string): ScriptError {
  return unsupported(line, `${construct}: pending: the packetdrill runner does not drive ${PENDING[feature] ?? feature} yet (docs/packetdrill.md)`);
}
