// Small pieces of the SSH commands' text: times as the server writes them, and tables.
import type { ReleaseJson } from './views.js';

export { textTable as table } from '../text-table.js';

/** An ISO time without its fraction (`2024-05-01 12:00:00Z`), or `-` for none. */
export const when = (d: string | null): string => (d ? d.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '-');

export const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

/** How a change's release went, for the line that reports it. */
export const releaseNote = (r: ReleaseJson | null): string =>
  !r ? '' : r.status === 'failed' ? ` (release v${r.version} failed: ${r.error ?? 'unknown error'}; the previous release keeps serving)` : ` (v${r.version})`;
