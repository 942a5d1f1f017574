/**
 * Rows as aligned text columns, two spaces apart, the header first. Columns listed in
 * `rightAligned` (numbers) are padded on the left; the last column is not padded, so lines end
 * without trailing blanks.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], rightAligned: readonly number[] = []): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 && !rightAligned.includes(i) ? cell : rightAligned.includes(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
