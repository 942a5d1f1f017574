import { describe, expect, it } from 'vitest';
import {
  CARD_GENERATIONS,
  CHANNEL_GENERATIONS,
  CommandCode,
  COMMANDS,
  commandsFor,
  commandSpec,
  isAvailableOn,
  requireCommandSpec,
  type CommandName,
  type CommandSpec,
  type Protection,
} from '../../src/desfire/commands.js';
import { DesfireError } from '../../src/desfire/errors.js';
import { ADDITIONAL_FRAME, ISO_CLA, WRAPPED_CLA } from '../../src/desfire/framing/index.js';
import { Status } from '../../src/desfire/status.js';

const spec = (name: CommandName): CommandSpec => {
  const found = COMMANDS.find((c) => c.name === name);
  if (!found) throw new Error(`no row ${name}`);
  return found;
};
const protections = (s: CommandSpec): Protection[] => [...Object.values(s.command), ...Object.values(s.response)];
const namesWhere = (pred: (s: CommandSpec) => boolean) => COMMANDS.filter(pred).map((c) => c.name).sort();

/**
 * Codes and names written down independently of the table, from Proxmark3 include/protocols.h
 * (MFDES_*) and libfreefare mifare_desfire.c; Proxmark's names differ for 0x5C (CHANGE_CONFIGURATION),
 * 0x51 (GET_UID), 0x6E (GET_FREE_MEMORY), 0x56/0x57/0x55 (*_KEY_SETTINGS), 0x3C (READSIG).
 */
const EXPECTED_CODES: Record<CommandName, number> = {
  Authenticate: 0x0a,
  AuthenticateISO: 0x1a,
  AuthenticateAES: 0xaa,
  AuthenticateEV2First: 0x71,
  AuthenticateEV2NonFirst: 0x77,
  ChangeKey: 0xc4,
  ChangeKeyEV2: 0xc6,
  ChangeKeySettings: 0x54,
  GetKeySettings: 0x45,
  GetKeyVersion: 0x64,
  InitializeKeySet: 0x56,
  FinalizeKeySet: 0x57,
  RollKeySet: 0x55,
  SetConfiguration: 0x5c,
  CreateApplication: 0xca,
  DeleteApplication: 0xda,
  SelectApplication: 0x5a,
  FormatPICC: 0xfc,
  GetVersion: 0x60,
  GetApplicationIDs: 0x6a,
  GetDFNames: 0x6d,
  FreeMemory: 0x6e,
  GetCardUID: 0x51,
  CreateDelegatedApplication: 0xc9,
  GetDelegatedInfo: 0x69,
  CreateStdDataFile: 0xcd,
  CreateBackupDataFile: 0xcb,
  CreateValueFile: 0xcc,
  CreateLinearRecordFile: 0xc1,
  CreateCyclicRecordFile: 0xc0,
  CreateTransactionMACFile: 0xce,
  DeleteFile: 0xdf,
  GetFileIDs: 0x6f,
  GetISOFileIDs: 0x61,
  GetFileSettings: 0xf5,
  ChangeFileSettings: 0x5f,
  ReadData: 0xbd,
  WriteData: 0x3d,
  GetValue: 0x6c,
  Credit: 0x0c,
  Debit: 0xdc,
  LimitedCredit: 0x1c,
  WriteRecord: 0x3b,
  UpdateRecord: 0xdb,
  ReadRecords: 0xbb,
  ClearRecordFile: 0xeb,
  CommitTransaction: 0xc7,
  AbortTransaction: 0xa7,
  CommitReaderID: 0xc8,
  PreparePC: 0xf0,
  ProximityCheck: 0xf2,
  VerifyPC: 0xfd,
  Read_Sig: 0x3c,
};

describe('command table: identity', () => {
  it('has exactly the public EV3 native set, with the codes of the public sources', () => {
    expect(Object.fromEntries(COMMANDS.map((c) => [c.name, c.code]))).toEqual(EXPECTED_CODES);
  });

  it('has unique codes and unique names', () => {
    expect(new Set(COMMANDS.map((c) => c.code)).size).toBe(COMMANDS.length);
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });

  it('uses no byte the framing reserves: 0xAF (continuation), 0x90 (wrapped CLA), 0x00 (ISO CLA)', () => {
    for (const c of COMMANDS) {
      expect(Number.isInteger(c.code) && c.code >= 0 && c.code <= 0xff).toBe(true);
      expect([ADDITIONAL_FRAME, WRAPPED_CLA, ISO_CLA]).not.toContain(c.code);
    }
  });

  it('looks rows up by code and names codes', () => {
    expect(commandSpec(0xbd)?.name).toBe('ReadData');
    expect(commandSpec(0x99)).toBeUndefined();
    expect(CommandCode.ReadData).toBe(0xbd);
    expect(CommandCode.AuthenticateEV2First).toBe(0x71);
    // @ts-expect-error a name the table does not have
    expect(CommandCode.ReadEverything).toBeUndefined();
  });

  it('freezes the table, every row and every protection record', () => {
    expect(Object.isFrozen(COMMANDS)).toBe(true);
    for (const c of COMMANDS) {
      expect(Object.isFrozen(c) && Object.isFrozen(c.command) && Object.isFrozen(c.response)).toBe(true);
    }
    expect(() => {
      (spec('ReadData') as { headerLength: number }).headerLength = 0;
    }).toThrow(TypeError);
    expect(() => {
      (spec('ReadData').command as Record<string, Protection>).ev2 = 'plain';
    }).toThrow(TypeError);
  });
});

describe('command table: generations', () => {
  const D40 = [
    'AbortTransaction', 'Authenticate', 'ChangeFileSettings', 'ChangeKey', 'ChangeKeySettings', 'ClearRecordFile',
    'CommitTransaction', 'CreateApplication', 'CreateBackupDataFile', 'CreateCyclicRecordFile', 'CreateLinearRecordFile',
    'CreateStdDataFile', 'CreateValueFile', 'Credit', 'Debit', 'DeleteApplication', 'DeleteFile', 'FormatPICC',
    'GetApplicationIDs', 'GetFileIDs', 'GetFileSettings', 'GetKeySettings', 'GetKeyVersion', 'GetValue', 'GetVersion',
    'LimitedCredit', 'ReadData', 'ReadRecords', 'SelectApplication', 'WriteData', 'WriteRecord',
  ];
  const EV1_ADDS = ['AuthenticateAES', 'AuthenticateISO', 'FreeMemory', 'GetCardUID', 'GetDFNames', 'GetISOFileIDs', 'SetConfiguration'];

  it('layers EV1 onto the MF3ICD40 base, and EV2 onto EV1; EV3 adds nothing public', () => {
    const names = (g: (typeof CARD_GENERATIONS)[number]) => commandsFor(g).map((c) => c.name).sort();
    expect(names('d40')).toEqual([...D40].sort());
    expect(names('ev1')).toEqual([...D40, ...EV1_ADDS].sort());
    expect(names('ev2').length).toBe(COMMANDS.length);
    expect(names('ev3')).toEqual(names('ev2'));
  });

  it('dispatches like a card: ILLEGAL_COMMAND_CODE for codes it does not know', () => {
    expect(requireCommandSpec(0xbd).name).toBe('ReadData');
    for (const [code, generation] of [[0x99, 'ev3'], [0x71, 'ev1'], [0xaa, 'd40'], [0xaf, 'ev3']] as const) {
      let error: unknown;
      try {
        requireCommandSpec(code, generation);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DesfireError);
      expect((error as DesfireError).status).toBe(Status.ILLEGAL_COMMAND_CODE);
      expect((error as DesfireError).command).toBe(code);
    }
  });

  it('orders generations and answers availability', () => {
    expect(CARD_GENERATIONS).toEqual(['d40', 'ev1', 'ev2', 'ev3']);
    expect(isAvailableOn(spec('UpdateRecord'), 'ev1')).toBe(false);
    expect(isAvailableOn(spec('UpdateRecord'), 'ev3')).toBe(true);
    expect(isAvailableOn(spec('ReadData'), 'd40')).toBe(true);
  });
});

describe('command table: every row is consistent', () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(Object.keys(c.command).sort()).toEqual([...CHANNEL_GENERATIONS].sort());
    expect(Object.keys(c.response).sort()).toEqual([...CHANNEL_GENERATIONS].sort());
    expect(CARD_GENERATIONS).toContain(c.since);
    const all = protections(c);
    // A handshake or an exchange outside secure messaging is so in both directions and every channel.
    for (const whole of ['auth', 'none'] as const) {
      if (all.includes(whole)) expect(all.every((p) => p === whole)).toBe(true);
    }
    // The card must read the file number (and the key number) before it knows how to unwrap.
    if (all.includes('file')) expect(c.headerLength).toBeGreaterThanOrEqual(1);
    if (all.includes('changekey')) expect(c.headerLength).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(c.headerLength) && c.headerLength >= 0 && c.headerLength <= 10).toBe(true);
    // d40 sessions MAC answers only of file reads (Proxmark D40ReceiveMAC).
    expect(c.response.d40).not.toBe('mac');
    // EV1 cards CMAC every answer of an authenticated session (libfreefare CMAC_VERIFY).
    expect(c.response.ev1).not.toBe('plain');
    // EV2 MACs every command of a session unless the file or the handshake says otherwise.
    expect(c.command.ev2).not.toBe('plain');
    // An EV2 exchange is protected alike both ways: a MACed or file command has a MACed or file answer.
    if (c.command.ev2 === 'file') expect(c.response.ev2).toBe('file');
    if (c.command.ev2 === 'mac') expect(['mac', 'full']).toContain(c.response.ev2);
    // Only commands with real data chain, and never handshakes.
    if (c.chainedCommand) expect(['file', 'mac']).toContain(c.command.ev2);
    if (c.chainedResponse) expect(['auth', 'none', 'changekey']).not.toContain(c.response.ev2);
  });
});

describe('command table: facts from the public sources', () => {
  it('clear header lengths match Proxmark CmdHeaderLengths', () => {
    const headers: Partial<Record<CommandName, number>> = {
      ChangeKey: 1, ChangeKeyEV2: 2, SetConfiguration: 1, GetFileSettings: 1, ChangeFileSettings: 1,
      CreateTransactionMACFile: 5, ReadData: 7, WriteData: 7, ReadRecords: 7, WriteRecord: 7, UpdateRecord: 10,
      GetValue: 1, Credit: 1, Debit: 1, LimitedCredit: 1, GetDelegatedInfo: 2,
    };
    for (const [name, length] of Object.entries(headers)) expect([name, spec(name as CommandName).headerLength]).toEqual([name, length]);
  });

  it('enciphered commands and answers are those Proxmark marks DCMEncrypted', () => {
    expect(namesWhere((c) => Object.values(c.command).every((p) => p === 'full'))).toEqual(
      ['ChangeKeySettings', 'CreateTransactionMACFile', 'SetConfiguration'],
    );
    expect(namesWhere((c) => Object.values(c.response).every((p) => p === 'full'))).toEqual(['GetCardUID']);
  });

  it('d40 and EV1 sessions send a command MAC only on Proxmark EV1D40TransmitMAC commands, plus value operations per file', () => {
    expect(namesWhere((c) => c.command.ev1 === 'mac')).toEqual(['CommitReaderID', 'FinalizeKeySet', 'InitializeKeySet', 'RollKeySet']);
    expect(namesWhere((c) => c.command.ev1 === 'file')).toEqual(['ChangeFileSettings', 'Credit', 'Debit', 'LimitedCredit', 'UpdateRecord', 'WriteData', 'WriteRecord']);
    expect(namesWhere((c) => c.command.d40 === 'mac' || c.command.d40 === 'file')).toEqual(
      ['ChangeFileSettings', 'CommitReaderID', 'Credit', 'Debit', 'FinalizeKeySet', 'InitializeKeySet', 'LimitedCredit', 'RollKeySet', 'UpdateRecord', 'WriteData', 'WriteRecord'],
    );
  });

  it('d40 sessions MAC or encipher answers per file only for Proxmark D40ReceiveMAC commands', () => {
    expect(namesWhere((c) => c.response.d40 === 'file')).toEqual(['GetValue', 'ReadData', 'ReadRecords']);
  });

  it('handshakes, key changes and exchanges outside secure messaging', () => {
    expect(namesWhere((c) => c.command.ev2 === 'auth')).toEqual(
      ['Authenticate', 'AuthenticateAES', 'AuthenticateEV2First', 'AuthenticateEV2NonFirst', 'AuthenticateISO'],
    );
    expect(namesWhere((c) => c.command.ev2 === 'changekey')).toEqual(['ChangeKey', 'ChangeKeyEV2']);
    expect(namesWhere((c) => c.command.ev2 === 'none')).toEqual(['PreparePC', 'ProximityCheck', 'SelectApplication', 'VerifyPC']);
  });

  it('chains exactly the commands whose data or answer can exceed one frame', () => {
    expect(namesWhere((c) => c.chainedCommand)).toEqual(['CreateDelegatedApplication', 'UpdateRecord', 'WriteData', 'WriteRecord']);
    expect(namesWhere((c) => c.chainedResponse)).toEqual(
      ['GetApplicationIDs', 'GetDFNames', 'GetISOFileIDs', 'GetVersion', 'ReadData', 'ReadRecords', 'Read_Sig'],
    );
  });
});
