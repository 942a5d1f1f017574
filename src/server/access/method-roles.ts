import type { Role } from './roles.js';

type Granted = readonly Exclude<Role, 'admin'>[];

/**
 * Who may call each RPC, by its full path (`/desfirepacs.v1.AuthService/Authenticate`), besides
 * `admin`, who may call every one. An empty list is admin only. A method missing here is refused
 * to everybody but admin; a test holds this table to the services the server offers.
 */
export const METHOD_ROLES: Readonly<Record<string, Granted>> = Object.freeze({
  '/desfirepacs.v1.AuthService/Authenticate': ['door'],

  '/desfirepacs.v1.EncoderService/Encode': ['station'],
  '/desfirepacs.v1.EncoderService/CreateBatch': ['operator'],
  '/desfirepacs.v1.EncoderService/GetBatch': ['operator'],
  '/desfirepacs.v1.EncoderService/ListBatches': ['operator'],
  '/desfirepacs.v1.EncoderService/WatchBatch': ['operator'],
  '/desfirepacs.v1.EncoderService/CancelBatch': ['operator'],
  '/desfirepacs.v1.EncoderService/GetCard': ['operator'],
  '/desfirepacs.v1.EncoderService/ListCards': ['operator'],
  '/desfirepacs.v1.EncoderService/ListStations': ['operator'],

  // Profiles decide which keys go on cards: reading and checking them is an operator's, changing them an admin's.
  '/desfirepacs.v1.ProfileService/PutProfile': [],
  '/desfirepacs.v1.ProfileService/GetProfile': ['operator'],
  '/desfirepacs.v1.ProfileService/ListProfiles': ['operator'],
  '/desfirepacs.v1.ProfileService/ValidateProfile': ['operator'],

  '/desfirepacs.v1.KeyService/CreateKeySet': [],
  '/desfirepacs.v1.KeyService/AddKeyVersion': [],
  '/desfirepacs.v1.KeyService/SetCurrentKeyVersion': [],
  '/desfirepacs.v1.KeyService/ListKeySets': [],

  // Virtual cards are for testing; ExportImage hands out a card's keys, so no production role has them.
  '/desfirepacs.v1.EmulatorService/CreateVirtualCard': ['tester'],
  '/desfirepacs.v1.EmulatorService/GetVirtualCard': ['tester'],
  '/desfirepacs.v1.EmulatorService/ListVirtualCards': ['tester'],
  '/desfirepacs.v1.EmulatorService/DeleteVirtualCard': ['tester'],
  '/desfirepacs.v1.EmulatorService/Transceive': ['tester'],
  '/desfirepacs.v1.EmulatorService/SetFaults': ['tester'],
  '/desfirepacs.v1.EmulatorService/ExportImage': ['tester'],
} satisfies Record<string, Granted>);

/** Whether any of `roles` may call the method at `path`. */
export function mayCall(roles: readonly Role[], path: string): boolean {
  if (roles.includes('admin')) return true;
  const granted = Object.hasOwn(METHOD_ROLES, path) ? METHOD_ROLES[path] : [];
  return roles.some((role) => (granted as readonly Role[]).includes(role));
}
