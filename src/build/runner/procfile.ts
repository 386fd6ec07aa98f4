// Procfile: process types and their commands ("web: npm start").
export type ProcessTypes = ReadonlyMap<string, string>;

export function parseProcfile(text: string): ProcessTypes {
  const types = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z0-9_-]{1,63})\s*:\s*(.+)$/.exec(line);
    if (m?.[1] && m[2]) types.set(m[1], m[2].trim());
  }
  return types;
}
