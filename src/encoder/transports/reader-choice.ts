/** Which of the listed readers a name asks for. */
export type ReaderChoice =
  | { readonly kind: 'one'; readonly name: string }
  | { readonly kind: 'none' }
  | { readonly kind: 'ambiguous'; readonly matches: readonly string[] };

/**
 * Picks a reader by name: the reader with exactly that name, else the one reader whose name
 * contains it (case-insensitive), e.g. "ACR122" or "00 00". Several such readers: ambiguous.
 */
export function chooseReader(available: readonly string[], wanted: string): ReaderChoice {
  if (available.includes(wanted)) return { kind: 'one', name: wanted };
  const needle = wanted.toLowerCase();
  const matches = available.filter((name) => name.toLowerCase().includes(needle));
  if (matches.length === 1) return { kind: 'one', name: matches[0] };
  if (matches.length === 0) return { kind: 'none' };
  return { kind: 'ambiguous', matches };
}

/** `"A", "B"` or `none`, for error messages. */
export function describeReaders(names: readonly string[]): string {
  return names.length === 0 ? 'none' : names.map((name) => JSON.stringify(name)).join(', ');
}
