// Terminal output: aligned tables, relative times, colour and a spinner for people; --json for scripts.
import { textTable } from '../text-table.js';

export interface Palette {
  bold(s: string): string;
  dim(s: string): string;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
}

const ESC = String.fromCharCode(27);

const wrap =
  (enabled: boolean, open: number, close: number) =>
  (s: string): string =>
    enabled ? `${ESC}[${open}m${s}${ESC}[${close}m` : s;

export function palette(enabled: boolean): Palette {
  return {
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
  };
}

/** https://no-color.org: any non-empty NO_COLOR turns colour off; pipes and files never get it. */
export const colourWanted = (stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean =>
  stream.isTTY === true && (env.NO_COLOR === undefined || env.NO_COLOR === '');

/** Columns two spaces apart under bold headers. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[], c: Palette): string {
  return textTable([headers.map((h) => c.bold(h)), ...rows]);
}

/** `label:  value` lines for one resource, labels aligned. */
export function details(pairs: readonly (readonly [string, string])[], c: Palette): string {
  return textTable(pairs.map(([k, v]) => [c.bold(`${k}:`), v]));
}

const rtf = new Intl.RelativeTimeFormat('en', { numeric: 'always' });
const UNITS: readonly (readonly [Intl.RelativeTimeFormatUnit, number])[] = [
  ['year', 365 * 86_400],
  ['month', 30 * 86_400],
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
];

/** "3 minutes ago", "in 5 days"; "-" for a time that has not happened (null). */
export function relativeTime(iso: string | null, now: number = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const seconds = (t - now) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return seconds <= 0 ? 'just now' : 'in a few seconds';
  for (const [unit, size] of UNITS) {
    const n = Math.floor(abs / size);
    if (n >= 1) return rtf.format(seconds < 0 ? -n : n, unit);
  }
  return rtf.format(seconds < 0 ? -1 : 1, 'minute');
}

/** "1m 12s" between two times, or up to now while still running. */
export function duration(fromIso: string | null, toIso: string | null, now: number = Date.now()): string {
  if (!fromIso) return '-';
  const ms = (toIso ? Date.parse(toIso) : now) - Date.parse(fromIso);
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m ${Math.round(s % 60)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

/** Colours a status word by what it means for the user: good, bad or still going. */
export function status(s: string, c: Palette): string {
  switch (s) {
    case 'succeeded':
    case 'active':
    case 'up':
    case 'yes':
      return c.green(s);
    case 'failed':
    case 'abandoned':
    case 'down':
    case 'revoked':
    case 'expired':
      return c.red(s);
    case 'queued':
    case 'running':
    case 'pending':
    case 'retiring':
      return c.yellow(s);
    default:
      return s;
  }
}

export interface Writer {
  readonly isTTY?: boolean;
  write(s: string): boolean;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Shown only after a short delay, so quick requests do not flicker; never on a pipe. */
export async function withSpinner<T>(stream: Writer, label: string, work: Promise<T>): Promise<T> {
  if (stream.isTTY !== true) return work;
  let frame = 0;
  let shown = false;
  const draw = (): void => {
    shown = true;
    stream.write(`\r${FRAMES[frame++ % FRAMES.length] ?? ''} ${label}`);
  };
  let interval: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    interval = setInterval(draw, 80);
  }, 150);
  const clear = (): void => {
    clearTimeout(delay);
    if (interval) clearInterval(interval);
    if (shown) stream.write(`\r${ESC}[K`);
  };
  // Ctrl-C mid-request must not leave a half-drawn spinner on the prompt line.
  const onSigint = (): void => {
    clear();
    process.exit(130);
  };
  process.once('SIGINT', onSigint);
  try {
    return await work;
  } finally {
    process.removeListener('SIGINT', onSigint);
    clear();
  }
}

/** What every command writes through: JSON when --json was given, human text otherwise. */
export class Output {
  readonly c: Palette;
  readonly err: Palette;

  constructor(
    readonly json: boolean,
    private readonly stdout: Writer,
    private readonly stderr: Writer,
    env: NodeJS.ProcessEnv,
  ) {
    this.c = palette(colourWanted(stdout, env));
    this.err = palette(colourWanted(stderr, env));
  }

  /** The API's JSON under --json, else the human rendering (computed only when needed). */
  emit(value: unknown, human: () => string): void {
    this.stdout.write(this.json ? `${JSON.stringify(value ?? null, null, 2)}\n` : human());
  }

  write(text: string): void {
    this.stdout.write(text);
  }

  /** Hints and notes: on stderr, so they never end up in what a script captures. */
  note(text: string): void {
    this.stderr.write(`${this.err.dim(text)}\n`);
  }

  table(headers: readonly string[], rows: readonly (readonly string[])[], empty: string): string {
    return rows.length === 0 ? `${empty}\n` : table(headers, rows, this.c);
  }

  details(pairs: readonly (readonly [string, string])[]): string {
    return details(pairs, this.c);
  }

  spin<T>(label: string, work: Promise<T>): Promise<T> {
    return withSpinner(this.stderr, label, work);
  }
}
