import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadProfileFile } from '../../encoder/profile/load.js';
import type { Profile } from '../../gen/desfirepacs/v1/profile_pb.js';

/** The directory of the profiles shipped with desfire-pacs (generic-pacs-v1). */
const SHIPPED_DIR = 'profiles';

/**
 * The path of a shipped profile, `profiles/<name>.yaml`, found by walking up from this module,
 * so it is found whether the code runs from src/ (tests) or dist/src/ (the built service).
 */
export function shippedProfilePath(name: string): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    const candidate = join(dir, SHIPPED_DIR, `${name}.yaml`);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`${SHIPPED_DIR}/${name}.yaml not found above ${start}`);
  }
}

/** A shipped profile, loaded and validated. */
export function loadShippedProfile(name: string): Promise<Profile> {
  return loadProfileFile(shippedProfilePath(name));
}
