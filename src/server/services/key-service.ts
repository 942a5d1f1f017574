import type { MessageInitShape } from '@bufbuild/protobuf';
import { timestampFromDate } from '@bufbuild/protobuf/wkt';
import { MAX_APPLICATION_KEYS, MAX_KEY_VERSION, type KeySetInfo, type ManagedKeyStore } from '../../encoder/keys/index.js';
import { KeyService, KeySetSchema } from '../../gen/desfirepacs/v1/key_service_pb.js';
import type { ServiceImpl } from '../grpc/service-impl.js';
import { requireName, requireRange } from '../grpc/validate.js';

/** Names of new key sets, as the contract gives them (existing ones may be any the key store accepts). */
const NEW_KEY_SET_NAME = /^[a-z0-9][a-z0-9._-]*$/;

/**
 * KeyService over the key store. Nothing goes in or out but names, versions and key refs:
 * masters are drawn inside the store and never leave it. Key store refusals (unknown key set,
 * name taken, 255 versions...) reach the client through the one error mapper.
 */
export function keyService(keys: ManagedKeyStore): ServiceImpl<typeof KeyService> {
  return {
    async createKeySet(request) {
      const name = requireName(request.name, 'name', 64, NEW_KEY_SET_NAME);
      const applicationKeys = request.applicationKeys === 0 ? undefined : requireRange(request.applicationKeys, 'application_keys', 1, MAX_APPLICATION_KEYS);
      return { keySet: keySetMessage(await keys.createKeySet(name, { applicationKeys })) };
    },
    async addKeyVersion(request) {
      const name = requireName(request.keySet, 'key_set');
      const added = await keys.addVersion(name, { makeCurrent: request.makeCurrent });
      return { keySet: keySetMessage(await keys.keySet(name)), version: added.version };
    },
    async setCurrentKeyVersion(request) {
      const name = requireName(request.keySet, 'key_set');
      await keys.setCurrentVersion(name, requireRange(request.version, 'version', 1, MAX_KEY_VERSION));
      return { keySet: keySetMessage(await keys.keySet(name)) };
    },
    async listKeySets() {
      return { keySets: (await keys.listKeySets()).map(keySetMessage) };
    },
  };
}

/** A key set as the API shows it: key refs as text ("picc", "0", "1"...). */
function keySetMessage(info: KeySetInfo): MessageInitShape<typeof KeySetSchema> {
  return {
    name: info.name,
    currentVersion: info.currentVersion,
    versions: info.versions.map((v) => ({ version: v.version, createdAt: timestampFromDate(new Date(v.createdAt)), keyRefs: v.keyRefs.map(String) })),
  };
}
