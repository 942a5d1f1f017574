import { Status, statusDescription, statusName } from './status.js';

/**
 * Who found the problem: the card answered with this status (`card`), or the
 * reader-side / card-side protocol code detected it in what the other end sent
 * (`protocol`: bad MAC, wrong length, bad padding). Transport failures are not
 * DesfireErrors at all.
 */
export type ErrorOrigin = 'card' | 'protocol';

/**
 * The one error type of the DESFire protocol, used by both ends. It carries the
 * DESFire status code (so a card-side handler's refusal becomes exactly that status byte)
 * and the command it belongs to.
 */
export class DesfireError extends Error {
  override readonly name = 'DesfireError';
  readonly status: number;
  readonly statusName: string;
  readonly command: number | undefined;
  readonly origin: ErrorOrigin;

  constructor(status: number, detail?: string, options: { command?: number; origin?: ErrorOrigin } = {}) {
    const where = options.command === undefined ? '' : ` (command 0x${options.command.toString(16).padStart(2, '0')})`;
    super(`${statusName(status)}${where}: ${detail ?? statusDescription(status)}`);
    this.status = status;
    this.statusName = statusName(status);
    this.command = options.command;
    this.origin = options.origin ?? 'protocol';
  }

  /** The same error attributed to `command`, for layers that learn the command only higher up. */
  forCommand(command: number): DesfireError {
    if (this.command !== undefined) return this;
    const detail = this.message.slice(this.message.indexOf(': ') + 2);
    return new DesfireError(this.status, detail, { command, origin: this.origin });
  }
}

export function isDesfireError(e: unknown): e is DesfireError {
  return e instanceof DesfireError;
}

/** A MAC, CRC or padding check failed: the message was altered or the keys differ. */
export function integrityError(detail: string): DesfireError {
  return new DesfireError(Status.INTEGRITY_ERROR, detail);
}

export function lengthError(detail: string): DesfireError {
  return new DesfireError(Status.LENGTH_ERROR, detail);
}

export function authenticationError(detail: string): DesfireError {
  return new DesfireError(Status.AUTHENTICATION_ERROR, detail);
}
