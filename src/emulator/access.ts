import { DesfireError } from '../desfire/errors.js';
import { Status } from '../desfire/status.js';
import type { CardContext } from './handler.js';
import { FREE_ACCESS, NO_ACCESS, type Application } from './model.js';
import { PICC_AID } from './session.js';

/**
 * Access decisions exactly as a card makes them, with the status it answers:
 * not authenticated where a key is needed → AUTHENTICATION_ERROR (0xAE);
 * authenticated, but with the wrong key or forbidden by settings → PERMISSION_DENIED (0x9D).
 */

/** The selected application; PERMISSION_DENIED at PICC level (file and application commands need one). */
export function selectedApplication(ctx: CardContext): Application {
  const app = ctx.picc.applications.get(ctx.session.selectedAid);
  if (ctx.session.selectedAid === PICC_AID || !app) {
    throw new DesfireError(Status.PERMISSION_DENIED, 'no application selected');
  }
  return app;
}

/** PERMISSION_DENIED unless the PICC level is selected. */
export function requirePiccLevel(ctx: CardContext): void {
  if (ctx.session.selectedAid !== PICC_AID) throw new DesfireError(Status.PERMISSION_DENIED, 'this command works at PICC level only');
}

/** The key number the session authenticated with, or undefined. */
export function authenticatedKey(ctx: CardContext): number | undefined {
  return ctx.session.auth?.keyNo;
}

/** Requires authentication with key `keyNo` of the selected level. */
export function requireKey(ctx: CardContext, keyNo: number, what: string): void {
  const current = authenticatedKey(ctx);
  if (current === undefined) throw new DesfireError(Status.AUTHENTICATION_ERROR, `${what} needs authentication with key ${keyNo}`);
  if (current !== keyNo) throw new DesfireError(Status.PERMISSION_DENIED, `${what} needs key ${keyNo}, authenticated with key ${current}`);
}

/** Requires the master key (key 0 of the selected level) unless `freeFlag` is set in the level's key settings. */
export function requireMasterKeyUnless(ctx: CardContext, keySettings: number, freeFlag: number, what: string): void {
  if ((keySettings & freeFlag) !== 0) return;
  requireKey(ctx, 0, what);
}

/**
 * Whether an access-right nibble lets the current session in: free (0xE) always, never (0xF)
 * never, a key number when authenticated with that key.
 */
export function grants(ctx: CardContext, right: number): boolean {
  if (right === FREE_ACCESS) return true;
  if (right === NO_ACCESS) return false;
  return authenticatedKey(ctx) === right;
}

/**
 * Requires one of `rights`; returns the one that granted access (free access means plain
 * communication, see files). Refuses with AUTHENTICATION_ERROR when not authenticated and a key
 * would help, PERMISSION_DENIED otherwise.
 */
export function requireAnyRight(ctx: CardContext, rights: readonly number[], what: string): number {
  for (const right of rights) if (grants(ctx, right)) return right;
  const aKeyCouldHelp = rights.some((r) => r !== NO_ACCESS);
  if (authenticatedKey(ctx) === undefined && aKeyCouldHelp) {
    throw new DesfireError(Status.AUTHENTICATION_ERROR, `${what} needs authentication`);
  }
  throw new DesfireError(Status.PERMISSION_DENIED, `${what} is not allowed with the current authentication`);
}
