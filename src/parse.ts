// Small parsers of the words people type (IDs, counts, release versions, KEY=VALUE), one of each
// for the server and the CLI. Each answers undefined for a bad word: the caller says why in its own
// voice (an API error, an SSH usage error, a CLI usage error).

/** A positive whole number of at most `digits` digits, without sign or leading zero (IDs, build numbers). */
export function parsePositiveInt(raw: string | undefined, digits = 10): number | undefined {
  if (raw === undefined || raw.length > digits || !/^[1-9][0-9]*$/.test(raw)) return undefined;
  return Number(raw);
}

/** A whole number from 0 to `max`, digits only (counts, line numbers, limits). */
export function parseWholeNumber(raw: string | undefined, max: number): number | undefined {
  if (raw === undefined || !/^[0-9]{1,15}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n <= max ? n : undefined;
}

/** A canary's share of new sessions as people write it: a whole percent from 1 to 99, no leading zero. */
export function parseCanaryShare(raw: string | undefined): number | undefined {
  return raw !== undefined && /^[1-9][0-9]?$/.test(raw) ? Number(raw) : undefined;
}

/** A release version as people write it: `v3` or `3`. */
export function parseVersion(raw: string | undefined): number | undefined {
  return parsePositiveInt(raw?.startsWith('v') ? raw.slice(1) : raw, 9);
}

/** `KEY=VALUE`: the value may contain '=' and may be empty; undefined when there is no key. */
export function parseAssignment(word: string): readonly [string, string] | undefined {
  const eq = word.indexOf('=');
  return eq > 0 ? [word.slice(0, eq), word.slice(eq + 1)] : undefined;
}
