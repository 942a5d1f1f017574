import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex } from '../../src/desfire/bytes.js';
import { CommandCode } from '../../src/desfire/commands.js';
import { Status } from '../../src/desfire/status.js';
import { authenticateIn, createAndSelectApplication, dataFileParams, FREE, manage, recordFileParams, rights, TestReader } from './support/harness.js';

const AID = 0x00e1e2;
const DF_NAME = fromHex('a000000077010101');
const EF_DATA = 0xe104;
const EF_RECORDS = 0xe105;
const EF_SECRET = 0xe106;

/** An application with ISO names: a free standard file, a free linear record file, a MAC-mode file of key 1. */
async function isoCard(): Promise<TestReader> {
  const reader = new TestReader();
  await createAndSelectApplication(reader, AID, { keyType: 'aes', isoFid: 0xe110 });
  reader.card.state.applications.get(AID)!.dfName = DF_NAME;
  const open = rights(FREE, FREE, FREE, FREE);
  await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(1, 'plain', open, 32, EF_DATA));
  await manage(reader, CommandCode.CreateLinearRecordFile, recordFileParams(2, 'plain', open, 4, 5, EF_RECORDS));
  await manage(reader, CommandCode.CreateStdDataFile, dataFileParams(3, 'mac', rights(1, 1, 1, 0), 16, EF_SECRET));
  reader.card.transceive(Uint8Array.of(0x00, 0xa4, 0x00, 0x0c, 0x02, 0x3f, 0x00)); // back to the MF
  return reader;
}

const apdu = (hex: string) => fromHex(hex);
const fid = (id: number) => toHex(Uint8Array.of(id >> 8, id & 0xff));

describe('ISO/IEC 7816-4 layer', () => {
  it('selects by DF name and file ID, reads and updates binary data, appends and reads records', async () => {
    const reader = await isoCard();
    const card = reader.card;
    expect(toHex(card.transceive(apdu(`00a404000${8}${toHex(DF_NAME)}`)))).toBe('9000');
    expect(toHex(card.transceive(apdu(`00a4020c02${fid(EF_DATA)}`)))).toBe('9000');
    expect(toHex(card.transceive(apdu('00d6000004cafebabe')))).toBe('9000');
    expect(toHex(card.transceive(apdu('00b0000004')))).toBe('cafebabe9000');
    expect(toHex(card.transceive(apdu('00b0000202')))).toBe('babe9000');
    expect(toHex(card.transceive(apdu('00b0002004')))).toBe('6b00'); // offset beyond the file
    // Short file identifier 1 in P1: read without selecting.
    expect(toHex(card.transceive(apdu('00b0810002')))).toBe('cafe9000');
    // Records: APPEND RECORD waits for the native CommitTransaction, like WriteRecord.
    expect(toHex(card.transceive(apdu(`00a4020c02${fid(EF_RECORDS)}`)))).toBe('9000');
    expect(toHex(card.transceive(apdu('00e200000411223344')))).toBe('9000');
    expect(toHex(card.transceive(apdu('00b2010400')))).not.toBe('112233449000');
    expect(toHex(card.transceive(Uint8Array.of(CommandCode.CommitTransaction)))).toBe('00');
    expect(toHex(card.transceive(apdu('00b2010400')))).toBe('112233449000');
    expect(toHex(card.transceive(apdu('00b2070400')))).toBe('6a83');
  });

  it('refuses what ISO cannot do here with the right status words', async () => {
    const reader = await isoCard();
    const card = reader.card;
    expect(toHex(card.transceive(apdu('00a4040c04deadbeef')))).toBe('6a82');
    expect(toHex(card.transceive(apdu('00b0000004')))).toBe('6a82'); // no EF selected
    expect(toHex(card.transceive(apdu('00a4000c02e110')))).toBe('9000');
    expect(toHex(card.transceive(apdu(`00a4020c02${fid(EF_SECRET)}`)))).toBe('9000');
    expect(toHex(card.transceive(apdu('00b0000004')))).toBe('6982'); // key 1 needed
    expect(await authenticateIn(reader, 'ev2', 'aes', 1)).toBe(Status.OPERATION_OK);
    expect(toHex(card.transceive(apdu('00b0000004')))).toBe('6982'); // MAC mode: ISO has no secure messaging
    expect(toHex(card.transceive(apdu(`00a4020c02${fid(EF_RECORDS)}`)))).toBe('9000');
    expect(toHex(card.transceive(apdu('00b0000004')))).toBe('6981'); // READ BINARY on a record file
    expect(toHex(card.transceive(apdu('0082000000')))).toBe('6d00');
    expect(toHex(card.transceive(apdu('00d6000005aa')))).toBe('6700'); // Lc does not match
    expect(card.transceive(apdu('0084000008')).length).toBe(10);
    expect(toHex(card.transceive(apdu('0084000005')))).toBe('6700');
    expect(toHex(card.transceive(concat(apdu('00a4040c10'), new Uint8Array(16))))).toBe('6a82');
  });
});
