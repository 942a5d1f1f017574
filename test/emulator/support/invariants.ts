import { keyLength } from '../../../src/desfire/crypto/key-type.js';
import { PICC_RESERVE } from '../../../src/desfire/capacity-model.js';
import { applicationFootprint, freeMemory } from '../../../src/emulator/memory.js';
import { CAPACITY_BYTES, FileType, type PiccState } from '../../../src/emulator/model.js';

/**
 * Everything that must hold of a card's persistent state whatever was sent to it; returns the
 * broken rules (empty when all hold).
 */
export function brokenInvariants(picc: PiccState): string[] {
  const broken: string[] = [];
  const check = (ok: boolean, rule: string) => {
    if (!ok) broken.push(rule);
  };
  let used = PICC_RESERVE;
  check(picc.applications.size <= 28, 'at most 28 applications');
  check(picc.uid.length === 7, 'a 7-byte UID');
  for (const app of picc.applications.values()) {
    const where = `application ${app.aid.toString(16)}`;
    used += applicationFootprint(app);
    check(app.aid > 0 && app.aid <= 0xffffff, `${where}: AID in 1..FFFFFF`);
    check(app.keys.length >= 1 && app.keys.length <= 14, `${where}: 1..14 keys`);
    check(app.keys.every((k) => k.key.length === keyLength(app.keyType)), `${where}: keys of the application's key length`);
    check(app.files.size <= 32, `${where}: at most 32 files`);
    for (const file of app.files.values()) {
      const at = `${where} file ${file.fileNo}`;
      check(file.fileNo >= 0 && file.fileNo <= 31, `${at}: number in 0..31`);
      switch (file.type) {
        case FileType.VALUE:
          check(file.lowerLimit <= file.value && file.value <= file.upperLimit, `${at}: value within its limits`);
          check(file.limitedCreditValue >= 0, `${at}: limited credit not negative`);
          break;
        case FileType.LINEAR_RECORD:
        case FileType.CYCLIC_RECORD:
          check(file.records.length <= file.maxRecords, `${at}: no more records than its maximum`);
          check(file.records.every((r) => r.length === file.recordSize), `${at}: every record of the record size`);
          break;
        default:
          break;
      }
    }
  }
  check(used <= CAPACITY_BYTES[picc.capacity], 'allocated memory within the capacity');
  check(freeMemory(picc) === CAPACITY_BYTES[picc.capacity] - used, 'free memory is what is not allocated');
  return broken;
}
