// What "nothing changed" means: repos on disk with their refs, and every row users can see.
import fs from 'node:fs/promises';
import path from 'node:path';
import { run, type RunningSolum } from './solum.js';

export async function snapshot(solum: RunningSolum): Promise<string> {
  const reposDir = path.join(solum.dataDir, 'repos');
  // Hidden entries are Solum's own (the empty repo a push to a new name is advertised from).
  const entries = (await fs.readdir(reposDir).catch(() => [] as string[])).filter((e) => !e.startsWith('.')).sort();
  const repos: Record<string, string> = {};
  for (const e of entries) {
    repos[e] = (await run('git', ['for-each-ref', '--format=%(refname) %(objectname)'], { cwd: path.join(reposDir, e) })).stdout;
  }
  const apps = (await solum.api('GET', '/v1/apps')).json as { name: string }[];
  const perApp: Record<string, unknown> = {};
  for (const a of apps) {
    perApp[a.name] = {
      info: (await solum.api('GET', `/v1/apps/${a.name}`)).json,
      builds: (await solum.api('GET', `/v1/apps/${a.name}/builds`)).json,
      collaborators: (await solum.api('GET', `/v1/apps/${a.name}/collaborators`)).json,
    };
  }
  const users = (await solum.api('GET', '/v1/users')).json as { name: string }[];
  const perUser: Record<string, unknown> = {};
  for (const u of users) {
    const keys = (await solum.api('GET', `/v1/users/${u.name}/keys`)).json as Record<string, unknown>[];
    perUser[u.name] = {
      keys: keys.map(({ lastUsedAt: _ignored, ...k }) => k),
      tokens: (await solum.api('GET', `/v1/users/${u.name}/tokens`)).json,
    };
  }
  const archives = (await fs.readdir(path.join(solum.dataDir, 'archives')).catch(() => [] as string[])).sort();
  return JSON.stringify({ repos, apps: perApp, users: perUser, archives }, null, 1);
}
