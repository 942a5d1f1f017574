import type { GenEnum } from '@bufbuild/protobuf/codegenv2';

/**
 * Enum values as the command line spells them: the proto value name without its prefix, in
 * lower case (`BATCH_STATE_RUNNING` is `running`), taken from the generated descriptor so a
 * state added to the proto is known here at once.
 */

/** The names an option accepts: every value but the UNSPECIFIED zero. */
export function stateNames(schema: GenEnum<number>): string[] {
  return schema.values.filter((v) => v.number !== 0).map((v) => v.localName.toLowerCase());
}

/** A value's name; an unknown number shows as itself. */
export function stateName(schema: GenEnum<number>, value: number): string {
  return schema.value[value]?.localName.toLowerCase() ?? String(value);
}

/** The value named `text`, or undefined when there is none. */
export function parseState(schema: GenEnum<number>, text: string): number | undefined {
  return schema.values.find((v) => v.number !== 0 && v.localName.toLowerCase() === text.toLowerCase())?.number;
}
