import { isDesfireError } from '../../desfire/errors.js';
import { Status } from '../../desfire/status.js';

/** ISO/IEC 7816-4 status words the card's ISO layer answers with. */
export const IsoStatus = {
  OK: 0x9000,
  WRONG_LENGTH: 0x6700,
  INCOMPATIBLE_FILE_STRUCTURE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  WRONG_PARAMETERS: 0x6a86,
  FILE_NOT_FOUND: 0x6a82,
  RECORD_NOT_FOUND: 0x6a83,
  WRONG_OFFSET: 0x6b00,
  INS_NOT_SUPPORTED: 0x6d00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

/**
 * The status word for a refusal that came from the native layer the ISO command was mapped onto
 * (ISO/IEC 7816-4 §5.6 meanings; the DESFire EV1 datasheet's ISO chapter uses the same words).
 */
export function isoStatusOf(error: unknown): number {
  if (!isDesfireError(error)) throw error;
  switch (error.status) {
    case Status.AUTHENTICATION_ERROR:
    case Status.PERMISSION_DENIED:
      return IsoStatus.SECURITY_STATUS_NOT_SATISFIED;
    case Status.FILE_NOT_FOUND:
    case Status.APPLICATION_NOT_FOUND:
      return IsoStatus.FILE_NOT_FOUND;
    case Status.BOUNDARY_ERROR:
      return IsoStatus.WRONG_OFFSET;
    case Status.LENGTH_ERROR:
      return IsoStatus.WRONG_LENGTH;
    case Status.PARAMETER_ERROR:
      return IsoStatus.WRONG_PARAMETERS;
    default:
      return IsoStatus.NO_PRECISE_DIAGNOSIS;
  }
}
