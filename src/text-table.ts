// Columns of text two spaces apart, the last one unpadded so lines carry no trailing blanks: the
// SSH commands' tables and the CLI's (whose cells may be coloured: widths count visible characters).

const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

const visibleLength = (s: string): number => s.replace(ANSI, '').length;

export function textTable(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(...rows.map((r) => visibleLength(r[i] ?? ''))));
  const line = (r: readonly string[]): string =>
    r
      .map((cell, i) => (i === r.length - 1 ? cell : cell + ' '.repeat((widths[i] ?? 0) - visibleLength(cell))))
      .join('  ')
      .trimEnd();
  return rows.map(line).join('\n') + '\n';
}
