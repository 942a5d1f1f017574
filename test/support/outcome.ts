import { DesfireError } from '../../src/desfire/errors.js';

/**
 * What a call did, as one comparable value: the status of the DesfireError it threw,
 * 'accepted' when it returned, or the text of any other error (which is then a bug).
 */
export function outcome(fn: () => unknown): number | string {
  try {
    fn();
    return 'accepted';
  } catch (e) {
    return describeError(e);
  }
}

export async function outcomeAsync(promise: Promise<unknown>): Promise<number | string> {
  try {
    await promise;
    return 'accepted';
  } catch (e) {
    return describeError(e);
  }
}

function describeError(e: unknown): number | string {
  return e instanceof DesfireError ? e.status : `not a DesfireError: ${String(e)}`;
}
