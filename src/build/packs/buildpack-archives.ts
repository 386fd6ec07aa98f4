// Buildpacks uploaded to Solum as archives (admins): checked like any upload, kept under the data
// dir, named by apps as solum-buildpack:NAME. Builds get them exactly like cloned ones.
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import type { AppStore } from '../../db/app-store.js';
import type { BuildpackArchive, BuildpackStore } from '../../db/buildpack-store.js';
import type { User } from '../../db/user-store.js';
import { REGISTERED_PREFIX, parseBuildpackUrl } from '../../buildpack-url.js';
import { badRequest, conflict, forbidden, notFound, unauthenticated } from '../../errors.js';
import { normalizeArtifact } from '../sources/artifact.js';
import { buildpackDir, fetchBuildpack } from './buildpacks.js';
import { retar } from '../runner/tar-tools.js';

export interface BuildpackArchives {
  list(actor: User | null): Promise<BuildpackArchive[]>;
  upload(actor: User | null, name: string, body: Readable): Promise<BuildpackArchive>;
  remove(actor: User | null, name: string): Promise<void>;
  /** What builds use: registered archives by name, git URLs cloned. */
  fetch(url: string, index: number): Promise<{ tar: Buffer; commit: string }>;
}

const NAME = /^[a-z][a-z0-9-]{0,30}$/;

/** The regular files of a tar (leading ./ dropped). */
async function filesOf(file: string): Promise<Set<string>> {
  const names = new Set<string>();
  const extract = tar.extract();
  extract.on('entry', (h, stream, next) => {
    if (h.type === 'file') names.add(h.name.replace(/^\.\//, ''));
    stream.on('end', next);
    stream.resume();
  });
  await pipeline(createReadStream(file), extract);
  return names;
}

export function createBuildpackArchives(deps: { store: BuildpackStore; apps: AppStore; dir: string }): BuildpackArchives {
  const fileOf = (name: string): string => path.join(deps.dir, `${name}.tar`);
  const admin = (actor: User | null): void => {
    if (!actor?.isAdmin) throw forbidden('buildpack archives are managed by admins');
  };
  return {
    async list(actor) {
      if (!actor) throw unauthenticated('authentication required');
      return deps.store.list();
    },
    async upload(actor, name, body) {
      admin(actor);
      if (!NAME.test(name)) throw badRequest('buildpack names use a-z, 0-9 and -, starting with a letter (at most 31)');
      if (await deps.store.get(name)) throw conflict(`a buildpack named '${name}' exists: remove it first`);
      await fs.mkdir(deps.dir, { recursive: true, mode: 0o700 });
      const tmp = path.join(deps.dir, `.${name}.${process.pid}.${Date.now()}.tar`);
      try {
        const { bytes, sha256 } = await normalizeArtifact(body, tmp, { maxBytes: 64 * 1024 * 1024, maxUnpackedBytes: 256 * 1024 * 1024, maxEntries: 20_000, maxPathLength: 1024 });
        const files = await filesOf(tmp);
        for (const script of ['bin/detect', 'bin/compile']) if (!files.has(script)) throw badRequest(`a buildpack archive needs ${script}`);
        const added = await deps.store.add({ name, sha256, bytes, createdBy: actor?.name ?? 'admin' });
        if (added === 'duplicate') throw conflict(`a buildpack named '${name}' exists: remove it first`);
        await fs.rename(tmp, fileOf(name));
        return added;
      } finally {
        await fs.rm(tmp, { force: true });
      }
    },
    async remove(actor, name) {
      admin(actor);
      if (!(await deps.store.get(name))) throw notFound(`no buildpack named '${name}'`);
      const users = (await deps.apps.listApps({})).filter((a) => a.buildpacks.includes(`${REGISTERED_PREFIX}${name}`)).map((a) => a.name);
      if (users.length > 0) throw conflict(`apps use buildpack '${name}': ${users.join(', ')}`);
      await deps.store.remove(name);
      await fs.rm(fileOf(name), { force: true });
    },
    async fetch(url, index) {
      const { registered } = parseBuildpackUrl(url, true);
      if (registered === undefined) return fetchBuildpack(url, index);
      const found = await deps.store.get(registered);
      if (!found) throw new Error(`no registered buildpack named '${registered}'`);
      return { tar: await retar(await fs.readFile(fileOf(registered)), '', buildpackDir(index)), commit: `sha256:${found.sha256}` };
    },
  };
}
