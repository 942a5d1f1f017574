import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { JsonValue } from '@bufbuild/protobuf';

/** The shipped profile file. */
export const GENERIC_PROFILE_PATH = new URL('../../../profiles/generic-pacs-v1.yaml', import.meta.url).pathname;

export function genericProfileText(): string {
  return readFileSync(GENERIC_PROFILE_PATH, 'utf8');
}

/** The shipped profile as a plain JSON-mapping object, to mutate in table tests. */
export function genericProfileJson(): Record<string, any> {
  return parse(genericProfileText()) as Record<string, any>;
}

export type Json = JsonValue;
