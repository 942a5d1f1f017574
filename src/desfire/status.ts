/**
 * DESFire status codes (the first byte of a native response, SW2 after 0x91 when ISO-wrapped),
 * with the names the NXP datasheets and libfreefare use.
 */
export const Status = {
  OPERATION_OK: 0x00,
  /** Success code of PreparePC, ProximityCheck, VerifyPC and Read_Sig (ISO-style 90). */
  OPERATION_OK_90: 0x90,
  NO_CHANGES: 0x0c,
  OUT_OF_EEPROM_ERROR: 0x0e,
  ILLEGAL_COMMAND_CODE: 0x1c,
  INTEGRITY_ERROR: 0x1e,
  NO_SUCH_KEY: 0x40,
  LENGTH_ERROR: 0x7e,
  PERMISSION_DENIED: 0x9d,
  PARAMETER_ERROR: 0x9e,
  APPLICATION_NOT_FOUND: 0xa0,
  APPL_INTEGRITY_ERROR: 0xa1,
  AUTHENTICATION_DELAY: 0xad,
  AUTHENTICATION_ERROR: 0xae,
  ADDITIONAL_FRAME: 0xaf,
  BOUNDARY_ERROR: 0xbe,
  PICC_INTEGRITY_ERROR: 0xc1,
  COMMAND_ABORTED: 0xca,
  PICC_DISABLED_ERROR: 0xcd,
  COUNT_ERROR: 0xce,
  DUPLICATE_ERROR: 0xde,
  EEPROM_ERROR: 0xee,
  FILE_NOT_FOUND: 0xf0,
  FILE_INTEGRITY_ERROR: 0xf1,
} as const;

export type StatusName = keyof typeof Status;

const DESCRIPTIONS: Record<StatusName, string> = {
  OPERATION_OK: 'successful operation',
  OPERATION_OK_90: 'successful operation (proximity check, originality signature)',
  NO_CHANGES: 'no changes done to backup files, CommitTransaction/AbortTransaction not necessary',
  OUT_OF_EEPROM_ERROR: 'insufficient NV-memory to complete command',
  ILLEGAL_COMMAND_CODE: 'command code not supported',
  INTEGRITY_ERROR: 'CRC or MAC does not match data, or padding bytes not valid',
  NO_SUCH_KEY: 'invalid key number specified',
  LENGTH_ERROR: 'length of command string invalid',
  PERMISSION_DENIED: 'current configuration or status does not allow the requested command',
  PARAMETER_ERROR: 'value of the parameter(s) invalid',
  APPLICATION_NOT_FOUND: 'requested AID not present on PICC',
  APPL_INTEGRITY_ERROR: 'unrecoverable error within application, application will be disabled',
  AUTHENTICATION_DELAY: 'too many failed authentications, the card delays further attempts',
  AUTHENTICATION_ERROR: 'current authentication status does not allow the requested command',
  ADDITIONAL_FRAME: 'additional data frame is expected to be sent',
  BOUNDARY_ERROR: 'attempt to read/write data from/to beyond the file or record limits',
  PICC_INTEGRITY_ERROR: 'unrecoverable error within PICC, PICC will be disabled',
  COMMAND_ABORTED: 'previous command was not fully completed',
  PICC_DISABLED_ERROR: 'PICC was disabled by an unrecoverable error',
  COUNT_ERROR: 'number of applications limited to 28, no additional CreateApplication possible',
  DUPLICATE_ERROR: 'creation of file/application failed because file/application with same number already exists',
  EEPROM_ERROR: 'could not complete NV-write operation due to loss of power, internal backup/rollback mechanism activated',
  FILE_NOT_FOUND: 'specified file number does not exist',
  FILE_INTEGRITY_ERROR: 'unrecoverable error within file, file will be disabled',
};

const NAMES = new Map<number, StatusName>(
  (Object.entries(Status) as [StatusName, number][]).map(([name, code]) => [code, name]),
);

/** The status name, or `UNKNOWN_STATUS_0xNN` for a code no table knows (a card may send anything). */
export function statusName(code: number): string {
  return NAMES.get(code) ?? `UNKNOWN_STATUS_0x${code.toString(16).padStart(2, '0')}`;
}

export function statusDescription(code: number): string {
  const name = NAMES.get(code);
  return name ? DESCRIPTIONS[name] : 'status code not defined for DESFire';
}
