import { AuthCommand } from '../../desfire/auth/schemes.js';
import type { CommandHandler } from '../handler.js';
import { authenticate } from './authenticate.js';
import { DATA_HANDLERS } from './data.js';
import { EV3_HANDLERS } from './ev3.js';
import { FILE_HANDLERS } from './files.js';
import { KEY_SET_HANDLERS } from './key-sets.js';
import { KEY_HANDLERS } from './keys.js';
import { PICC_HANDLERS } from './picc.js';
import { TRANSACTION_HANDLERS } from './transactions.js';

/** Every command the card answers, by code. A code in the table but not here is answered ILLEGAL_COMMAND_CODE. */
export const HANDLERS: ReadonlyMap<number, CommandHandler> = new Map<number, CommandHandler>([
  [AuthCommand.LEGACY, authenticate], // 0x0A Authenticate
  [AuthCommand.ISO, authenticate], // 0x1A AuthenticateISO
  [AuthCommand.AES, authenticate], // 0xAA AuthenticateAES
  [AuthCommand.EV2_FIRST, authenticate], // 0x71 AuthenticateEV2First
  [AuthCommand.EV2_NON_FIRST, authenticate], // 0x77 AuthenticateEV2NonFirst
  ...PICC_HANDLERS,
  ...KEY_HANDLERS,
  ...KEY_SET_HANDLERS,
  ...FILE_HANDLERS,
  ...DATA_HANDLERS,
  ...TRANSACTION_HANDLERS,
  ...EV3_HANDLERS,
]);
