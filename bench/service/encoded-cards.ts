import { ENCODING_PROXIMITY_TOLERANCE_NS } from '../../src/server/service.js';
import { factoryState } from '../../src/emulator/factory.js';
import { InProcessTransport } from '../../src/emulator/in-process-transport.js';
import { VirtualCard } from '../../src/emulator/virtual-card.js';
import { doorConfigOf, planCard } from '../../src/encoder/card-plan.js';
import { DesfireClient } from '../../src/encoder/client/desfire-client.js';
import { doorCheck } from '../../src/encoder/door/authenticator.js';
import type { KeyStore } from '../../src/encoder/keys/index.js';
import { personalize } from '../../src/encoder/personalize/personalizer.js';
import { parseCardData } from '../../src/encoder/profile/index.js';
import type { Profile } from '../../src/gen/desfirepacs/v1/profile_pb.js';
import { runWithAudit } from '../../src/server/audit-context.js';

/**
 * `count` factory-fresh virtual cards encoded with `profile` in process (as `desfire-pacs demo`
 * does), each in its own reader slot: the cards a door's reader hosts present.
 */
export async function encodedCards(profile: Profile, keyStore: KeyStore, count: number): Promise<InProcessTransport[]> {
  const readers: InProcessTransport[] = [];
  for (let n = 1; n <= count; n++) {
    const card = new VirtualCard(factoryState());
    const transport = new InProcessTransport(card);
    const data = parseCardData(`card_number: ${n}\nvalid_from: 2020-01-01T00:00:00Z\nvalid_to: 2099-01-01T00:00:00Z\n`, 'yaml');
    await runWithAudit({ actor: 'bench', purpose: 'encode' }, async () =>
      personalize({
        client: new DesfireClient(transport),
        uid: card.uid,
        ...(await planCard(profile, data, keyStore, card.uid)),
        journal: { record: () => undefined },
        // Setup, not measured: a generous tolerance so that a busy machine cannot fail the verification.
        verify: doorCheck(new DesfireClient(transport), card.uid, doorConfigOf(profile, keyStore, { proximityToleranceNs: ENCODING_PROXIMITY_TOLERANCE_NS })),
      }),
    );
    readers.push(transport);
  }
  return readers;
}
