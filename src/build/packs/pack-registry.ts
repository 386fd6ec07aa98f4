// The language-pack registry: the stock packs plus packs operators register from local images.
// Builds see the union; a pack an app pins or was last built with cannot be removed.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import type { AppStore } from '../../db/app-store.js';
import type { Logger } from '../../logger.js';
import { inspectArchive } from '../runner/archive.js';
import { normalizeArtifact } from '../sources/artifact.js';
import type { Containers } from '../../containers/containers.js';
import { LABEL } from '../../containers/labels.js';
import type { BuildStore } from '../../db/build-store.js';
import type { PackStore } from '../../db/pack-store.js';
import type { User } from '../../db/user-store.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../../errors.js';
import { packFromManifest, resolvePacks, type LanguagePack, type PackKind } from './language-packs.js';

export interface PackView {
  readonly name: string;
  readonly version: string;
  readonly origin: 'stock' | 'registered';
  readonly kind: PackKind;
  readonly image: string | null;
  readonly imageId: string | null;
  /** Packs built here go queued → building → ready | error. */
  readonly status: 'ready' | 'missing-image' | 'queued' | 'building' | 'error';
  /** For packs built here: the `docker build` output and what went wrong. */
  readonly log?: string;
  readonly error?: string | null;
  readonly detect: readonly string[];
  readonly network: 'none' | 'host';
  readonly run: string | null;
  /** Packs built before this one in the same builder. */
  readonly dependsOn: readonly string[];
}

/** S2I's default scripts directory, when an image has no io.openshift.s2i.scripts-url label. */
export const S2I_DEFAULT_SCRIPTS = '/usr/libexec/s2i';

/** The scripts directory an S2I image declares (`image:///path`), or the default. Pure. */
export function s2iScriptsDir(labels: Readonly<Record<string, string>> | undefined): string {
  const url = labels?.['io.openshift.s2i.scripts-url'];
  if (!url) return S2I_DEFAULT_SCRIPTS;
  const m = /^image:\/\/(\/[\w./-]+?)\/?$/.exec(url);
  if (!m?.[1]) throw badRequest(`the image's io.openshift.s2i.scripts-url ${JSON.stringify(url.slice(0, 80))} is not an image:///path URL Solum can use`);
  return m[1];
}

/**
 * Search: `q` matches names and versions; `name@version` wants that name and a version equal to
 * `version` or below it (`node@2` matches 2, 2.1, 2.1.3). Pure.
 */
export function matchesQuery(p: { name: string; version: string }, query: string | undefined): boolean {
  const q = query?.toLowerCase().trim();
  if (!q) return true;
  const at = q.indexOf('@');
  if (at > 0) {
    const [name, version] = [q.slice(0, at), q.slice(at + 1)];
    const v = p.version.toLowerCase();
    return p.name.includes(name) && (v === version || v.startsWith(`${version}.`));
  }
  return p.name.includes(q) || p.version.toLowerCase().includes(q);
}

export interface PackRegistry {
  /** What builds choose from (stock first, in detection order, then registered). */
  packs(): readonly LanguagePack[];
  load(): Promise<void>;
  list(query?: string): Promise<PackView[]>;
  get(name: string): Promise<PackView>;
  register(actor: User | null, input: { image: string; manifest: unknown }): Promise<PackView>;
  /**
   * Builds a pack from an uploaded tar (Dockerfile, solum-pack.json, build script) with `docker
   * build`, in the background: the answer is the queued pack; its status and log follow.
   */
  create(actor: User | null, tar: Readable): Promise<PackView>;
  /** Re-reads the image ID behind a pack's image (after the operator rebuilt it). */
  refresh(actor: User | null, name: string): Promise<PackView>;
  remove(actor: User | null, name: string): Promise<void>;
}

export function createPackRegistry(deps: {
  stock: readonly LanguagePack[];
  store: PackStore;
  apps: AppStore;
  builds: BuildStore;
  imageId: (ref: string) => Promise<string | undefined>;
  containers: Pick<Containers, 'buildImage' | 'imageLabels'>;
  /** Build args for pack images (BASE_IMAGE and the builder network's proxies). */
  buildArgs: Readonly<Record<string, string>>;
  logger: Logger;
}): PackRegistry {
  let registered: LanguagePack[] = [];
  /** Packs being built here (and those that failed): shown in lists, not used by builds. */
  const pending = new Map<string, { pack: LanguagePack; status: 'queued' | 'building' | 'error'; log: string; error: string | null }>();
  const stockNames = new Set(deps.stock.map((p) => p.name));
  const admin = (actor: User | null): void => {
    if (!actor?.isAdmin) throw forbidden('language packs are managed by admins');
  };
  const view = async (p: LanguagePack, origin: PackView['origin']): Promise<PackView> => {
    const imageId = p.kind === 'dockerfile' ? null : ((await deps.imageId(p.image)) ?? null);
    return {
      name: p.name,
      version: p.version,
      origin,
      kind: p.kind,
      image: p.kind === 'dockerfile' ? null : p.image,
      imageId,
      status: p.kind === 'dockerfile' || imageId ? 'ready' : 'missing-image',
      detect: p.detect,
      network: p.network,
      run: p.run ?? null,
      dependsOn: p.dependsOn,
    };
  };
  const pendingView = (b: { pack: LanguagePack; status: 'queued' | 'building' | 'error'; log: string; error: string | null }): PackView => ({
    name: b.pack.name,
    version: b.pack.version,
    origin: 'registered',
    kind: b.pack.kind,
    image: b.pack.image,
    imageId: null,
    status: b.status,
    detect: b.pack.detect,
    network: b.pack.network,
    run: b.pack.run ?? null,
    dependsOn: b.pack.dependsOn,
    log: b.log,
    error: b.error,
  });

  const buildPack = async (state: { pack: LanguagePack; status: 'queued' | 'building' | 'error'; log: string; error: string | null }, file: string): Promise<void> => {
    const { pack } = state;
    state.status = 'building';
    await deps.store.setBuildState(pack.name, { status: 'building', log: '' });
    try {
      const imageId = await deps.containers.buildImage(createReadStream(file), {
        tag: pack.image,
        labels: { [LABEL.role]: 'language-pack', [LABEL.languagePack]: pack.name },
        network: 'host',
        buildArgs: deps.buildArgs,
        memoryBytes: 2 * 1024 * 1024 * 1024,
        onOutput: (text) => {
          if (state.log.length < 1_000_000) state.log += text;
        },
      });
      await deps.store.setBuildState(pack.name, { status: 'ready', log: state.log, imageId });
      pending.delete(pack.name);
      registered.push(pack);
    } catch (err) {
      state.status = 'error';
      state.error = (err as Error).message.split('\n')[0] ?? 'docker build failed';
      await deps.store.setBuildState(pack.name, { status: 'error', log: state.log, error: state.error });
      deps.logger.warn({ pack: pack.name, error: state.error }, 'building a language pack failed');
    }
  };

  const all = (): Array<[LanguagePack, PackView['origin']]> => [...deps.stock.map((p) => [p, 'stock'] as [LanguagePack, PackView['origin']]), ...registered.map((p) => [p, 'registered'] as [LanguagePack, PackView['origin']])];
  /** Refuses a new pack whose dependencies are missing or would form a cycle. */
  const checkDependencies = (pack: LanguagePack): void => {
    try {
      resolvePacks([...deps.stock, ...registered.filter((p) => p.name !== pack.name), pack], [pack.name]);
    } catch (err) {
      throw badRequest((err as Error).message);
    }
  };
  const find = (name: string): [LanguagePack, PackView['origin']] => {
    const hit = all().find(([p]) => p.name === name);
    if (!hit) throw notFound(`no language pack named '${name}'`);
    return hit;
  };
  return {
    packs: () => [...deps.stock, ...registered],
    async load() {
      const rows = await deps.store.list();
      registered = rows.filter((r) => r.status === 'ready').map((r) => packFromManifest(r.manifest, r.image));
      for (const r of rows.filter((x) => x.status !== 'ready')) {
        // Failed builds stay listed with their log; one cut short by a restart will not finish.
        pending.set(r.name, { pack: packFromManifest(r.manifest, r.image), status: 'error', log: r.log, error: r.error ?? 'the server stopped while the pack was being built' });
      }
    },
    async list(query) {
      const q = query?.toLowerCase();
      const hits = all().filter(([p]) => matchesQuery(p, q));
      const views = await Promise.all(hits.map(([p, o]) => view(p, o)));
      for (const [, b] of pending) if (matchesQuery(b.pack, q)) views.push(pendingView(b));
      return views;
    },
    async get(name) {
      const b = pending.get(name);
      if (b) return pendingView(b);
      const [p, o] = find(name);
      return view(p, o);
    },
    async create(actor, tar) {
      admin(actor);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'solum-pack-'));
      const file = path.join(dir, 'pack.tar');
      try {
        await normalizeArtifact(tar, file, { maxBytes: 64 * 1024 * 1024, maxUnpackedBytes: 256 * 1024 * 1024, maxEntries: 10_000, maxPathLength: 1024 });
        const summary = await inspectArchive(file);
        if (!summary.dockerfile) throw badRequest('a language pack tar needs a Dockerfile at its root');
        if (!summary.packManifest) throw badRequest('a language pack tar needs solum-pack.json at its root');
        let raw: unknown;
        try {
          raw = JSON.parse(summary.packManifest);
        } catch {
          throw badRequest('solum-pack.json is not JSON');
        }
        const probe = packFromManifest(raw, 'pending');
        if (probe.kind !== 'builder') throw badRequest('packs built here run their build command in their image (kind builder)');
        if (stockNames.has(probe.name) || registered.some((p) => p.name === probe.name) || pending.has(probe.name)) throw conflict(`a language pack named '${probe.name}' exists`);
        checkDependencies(probe);
        const image = `solum/lp-${probe.name}:${probe.version.replace(/[^\w.-]/g, '_')}`;
        const pack = packFromManifest(raw, image);
        const added = await deps.store.add({ name: pack.name, version: pack.version, image, imageId: null, manifest: raw, createdBy: actor?.name ?? 'admin', kind: 'built' });
        if (added === 'duplicate') throw conflict(`a language pack named '${pack.name}' exists`);
        const state = { pack, status: 'queued' as 'queued' | 'building' | 'error', log: '', error: null as string | null };
        pending.set(pack.name, state);
        const answer = pendingView(state);
        void buildPack(state, file).finally(() => fs.rm(dir, { recursive: true, force: true }));
        return answer;
      } catch (err) {
        await fs.rm(dir, { recursive: true, force: true });
        throw err;
      }
    },
    async register(actor, input) {
      admin(actor);
      if (!/^[\w][\w.:/@-]{0,254}$/.test(input.image)) throw badRequest('give a local image reference');
      let manifest = input.manifest;
      let pack = packFromManifest(manifest, input.image);
      if (pack.kind === 'dockerfile') throw badRequest('registered packs run in their image (kind builder, buildpack or s2i)');
      if (stockNames.has(pack.name)) throw conflict(`'${pack.name}' is a stock language pack`);
      const imageId = await deps.imageId(input.image);
      if (!imageId) throw new AppError('not_found', `no local image '${input.image}' on this Docker engine`);
      if (pack.kind === 's2i' && !pack.scripts) {
        // The image's own contract: its scripts-url label, else S2I's default directory.
        manifest = { ...(input.manifest as Record<string, unknown>), scripts: s2iScriptsDir(await deps.containers.imageLabels(input.image)) };
        pack = packFromManifest(manifest, input.image);
      }
      checkDependencies(pack);
      const added = await deps.store.add({ name: pack.name, version: pack.version, image: input.image, imageId, manifest, createdBy: actor?.name ?? 'admin', kind: 'image' });
      if (added === 'duplicate') throw conflict(`a language pack named '${pack.name}' exists`);
      registered.push(pack);
      return view(pack, 'registered');
    },
    async refresh(actor, name) {
      admin(actor);
      const [p, o] = find(name);
      const id = await deps.imageId(p.image);
      if (!id) throw new AppError('not_found', `the image ${p.image} is missing`);
      if (o === 'registered') await deps.store.setImageId(name, id);
      return view(p, o);
    },
    async remove(actor, name) {
      admin(actor);
      const failed = pending.get(name);
      if (failed) {
        if (failed.status !== 'error') throw conflict(`'${name}' is being built`);
        await deps.store.remove(name);
        pending.delete(name);
        return;
      }
      const [, origin] = find(name);
      if (origin === 'stock') throw conflict(`'${name}' is a stock language pack and cannot be removed`);
      const dependents = registered.filter((p) => p.dependsOn.includes(name)).map((p) => p.name);
      if (dependents.length > 0) throw conflict(`language packs depend on '${name}': ${dependents.join(', ')}`);
      const apps = await deps.apps.listApps({});
      const pinned = apps.filter((a) => a.languagePack === name || a.languagePacks.includes(name)).map((a) => a.name);
      if (pinned.length > 0) throw conflict(`apps pin '${name}': ${pinned.join(', ')}`);
      // In use: an app whose newest successful build came from this pack (its next rebuild needs it).
      for (const a of apps) {
        const newest = (await deps.builds.listBuilds(a.id)).find((b) => b.status === 'succeeded');
        if (newest && (newest.languagePack === name || newest.languagePacks.some((u) => u.name === name))) throw conflict(`'${a.name}' was last built with '${name}'`);
      }
      await deps.store.remove(name);
      registered = registered.filter((p) => p.name !== name);
    },
  };
}
