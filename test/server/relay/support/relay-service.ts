import { create } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { MemoryKeyStore } from '../../../../src/encoder/keys/index.js';
import { AuthService } from '../../../../src/gen/desfirepacs/v1/auth_pb.js';
import { EncoderService } from '../../../../src/gen/desfirepacs/v1/encoder_pb.js';
import { CardDataSchema, type Profile } from '../../../../src/gen/desfirepacs/v1/profile_pb.js';
import { currentAudit } from '../../../../src/server/audit-context.js';
import { BatchRunner } from '../../../../src/server/batches/batch-runner.js';
import { cardDataText } from '../../../../src/server/batches/card-data.js';
import { addService } from '../../../../src/server/grpc/add-service.js';
import { ApiError } from '../../../../src/server/grpc/api-error.js';
import type { ServiceImpl } from '../../../../src/server/grpc/service-impl.js';
import { Journal } from '../../../../src/server/journal/index.js';
import { relaySettings } from '../../../../src/server/relay/relay-settings.js';
import { authService } from '../../../../src/server/services/auth-service.js';
import { encodeStream } from '../../../../src/server/services/encode-stream.js';
import { genericProfile, keyStoreWithPacs, profileRegistry } from './cards.js';
import { startLoopbackServer, type LoopbackServer } from '../../../../src/server/grpc/loopback-server.js';
import { silentLogger } from '../../batches/support.js';

/**
 * The relay services as the service wires them, on loopback: AuthService, and EncoderService's
 * Encode over a real BatchRunner and an in-memory journal (the other EncoderService methods are
 * not served). In-process cards share the CPU with the whole test run: 50 ms of proximity margin.
 */
export interface RelayService {
  readonly server: LoopbackServer;
  readonly journal: Journal;
  readonly keyStore: MemoryKeyStore;
  readonly profile: Profile;
  /** A batch of `count` cards numbered from `first`, valid 2026..2099. */
  createBatch(first: number, count: number, id?: string): string;
  close(): Promise<void>;
}

export async function startRelayService(): Promise<RelayService> {
  const journal = Journal.open({ path: ':memory:' });
  const keyStore = await keyStoreWithPacs({ onKeyUse: journal.keyUseListener(currentAudit) });
  const profile = await genericProfile();
  const profiles = profileRegistry(profile);
  const relay = relaySettings({ proximityToleranceNs: 50_000_000n });
  const runner = new BatchRunner({ journal, profiles, keyStore, logger: silentLogger, door: { proximityToleranceNs: relay.proximityToleranceNs } });
  const encoder = encodeOnly(encodeStream({ encodeCard: (input) => runner.encodeCard(input), relay, logger: silentLogger }));
  const server = await startLoopbackServer((s, hooks) => {
    addService(s, AuthService, authService({ keyStore, profiles, defaultProfile: profile.name, relay, logger: silentLogger }), hooks);
    addService(s, EncoderService, encoder, hooks);
  });
  return {
    server,
    journal,
    keyStore,
    profile,
    createBatch: (first, count, id) => {
      const validity = { validFrom: timestampFromDate(new Date('2026-01-01T00:00:00Z')), validTo: timestampFromDate(new Date('2099-01-01T00:00:00Z')) };
      const cards = Array.from({ length: count }, (_, i) => {
        const cardNumber = BigInt(first + i);
        return { cardNumber, data: cardDataText(create(CardDataSchema, { cardNumber, ...validity })) };
      });
      return journal.createBatch({ profile: profile.name, keySet: 'pacs', cards, ...(id === undefined ? {} : { id }) }).id;
    },
    close: async () => {
      await server.close();
      await keyStore.close();
      journal.close();
    },
  };
}

/** EncoderService serving Encode with `encode`; its other methods are UNIMPLEMENTED here. */
export function encodeOnly(encode: ServiceImpl<typeof EncoderService>['encode']): ServiceImpl<typeof EncoderService> {
  const unimplemented = () => Promise.reject(new ApiError(GrpcStatus.UNIMPLEMENTED, 'not served in this test'));
  return Object.fromEntries(EncoderService.methods.map((m) => [m.localName, m.localName === 'encode' ? encode : unimplemented])) as unknown as ServiceImpl<typeof EncoderService>;
}
