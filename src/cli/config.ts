// Where the CLI keeps its server URL and token (~/.config/solum/config.json, 0600) and how env overrides it.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliError, UsageError } from './errors.js';

export interface StoredConfig {
  readonly url: string;
  readonly token: string;
}

/** What the CLI will use: each value from the environment if set there, else from the file. */
export interface Credentials {
  readonly url: string | undefined;
  readonly token: string | undefined;
}

export const configDir = (): string => path.join(os.homedir(), '.config', 'solum');
export const configPath = (): string => path.join(configDir(), 'config.json');

/** An empty variable counts as unset, so `SOLUM_TOKEN= solum …` falls back to the file. */
const fromEnv = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name];
  return v === undefined || v === '' ? undefined : v;
};

export async function readConfig(): Promise<Partial<StoredConfig>> {
  const file = configPath();
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CliError(`${file} is not valid JSON: fix it, or delete it and run solum login again`);
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const out: { url?: string; token?: string } = {};
  if ('url' in parsed && typeof parsed.url === 'string') out.url = parsed.url;
  if ('token' in parsed && typeof parsed.token === 'string') out.token = parsed.token;
  return out;
}

export async function credentials(env: NodeJS.ProcessEnv): Promise<Credentials> {
  const url = fromEnv(env, 'SOLUM_URL');
  const token = fromEnv(env, 'SOLUM_TOKEN');
  // Both from the environment: the file is not needed, and may not even be readable (CI).
  if (url !== undefined && token !== undefined) return { url, token };
  const file = await readConfig();
  return { url: url ?? file.url, token: token ?? file.token };
}

/** Written to a temp file then renamed, so a crash never leaves a half-written token behind. */
export async function writeConfig(config: StoredConfig): Promise<string> {
  const dir = configDir();
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // mkdir leaves an existing directory's mode alone; the token inside is a password.
  await fs.chmod(dir, 0o700);
  const file = configPath();
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await fs.chmod(tmp, 0o600);
  await fs.rename(tmp, file);
  return file;
}

/** Whether there was a file to remove. */
export async function removeConfig(): Promise<boolean> {
  try {
    await fs.unlink(configPath());
    return true;
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'ENOENT') return false;
    throw err;
  }
}

/** The server's base URL as typed by the user, checked and without a trailing slash. */
export function normalizeUrl(raw: string): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(`not a URL: ${raw} (try http://HOST:3000)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new UsageError(`the Solum URL must be http:// or https://, not ${u.protocol}`);
  if (u.username || u.password) throw new UsageError('put the token in --token, not in the URL');
  return `${u.origin}${u.pathname}`.replace(/\/+$/, '');
}
