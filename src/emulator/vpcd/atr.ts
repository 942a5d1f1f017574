/**
 * The historical bytes of an ATR (ISO/IEC 7816-3 §8.2): after TS and T0 come the interface bytes
 * (TA/TB/TC/TD per Yi nibble, chained by TDi), then the K historical bytes (K = low nibble of T0),
 * then TCK when a protocol other than T=0 is indicated. For a contactless ISO 14443-4 type A card,
 * PC/SC part 3 (§3.1.3.2.3.1) puts the ATS historical bytes there. Returns undefined when the ATR
 * is too short for what it announces.
 */
export function atrHistoricalBytes(atr: Uint8Array): Uint8Array | undefined {
  if (atr.length < 2) return undefined;
  const historicalCount = atr[1] & 0x0f;
  let y = atr[1] >> 4;
  let offset = 2;
  for (;;) {
    const interfaceBytes = popcount4(y);
    const td = y & 0x8 ? offset + interfaceBytes - 1 : -1;
    offset += interfaceBytes;
    if (offset > atr.length) return undefined;
    if (td < 0) break;
    y = atr[td] >> 4;
  }
  if (offset + historicalCount > atr.length) return undefined;
  return atr.slice(offset, offset + historicalCount);
}

function popcount4(nibble: number): number {
  return (nibble & 1) + ((nibble >> 1) & 1) + ((nibble >> 2) & 1) + ((nibble >> 3) & 1);
}
