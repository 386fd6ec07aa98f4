// The language-pack registry: the stock packs plus packs operators register from local images.
// Builds see the union; a pack an app pins or was last built with cannot be removed.
import type { AppStore } from '../db/app-store.js';
import type { BuildStore } from '../db/build-store.js';
import type { PackStore } from '../db/pack-store.js';
import type { User } from '../db/user-store.js';
import { AppError, badRequest, conflict, forbidden, notFound } from '../errors.js';
import { packFromManifest, type LanguagePack } from './language-packs.js';

export interface PackView {
  readonly name: string;
  readonly version: string;
  readonly origin: 'stock' | 'registered';
  readonly kind: 'builder' | 'dockerfile';
  readonly image: string | null;
  readonly imageId: string | null;
  readonly status: 'ready' | 'missing-image';
  readonly detect: readonly string[];
  readonly network: 'none' | 'host';
  readonly run: string | null;
}

export interface PackRegistry {
  /** What builds choose from (stock first, in detection order, then registered). */
  packs(): readonly LanguagePack[];
  load(): Promise<void>;
  list(query?: string): Promise<PackView[]>;
  get(name: string): Promise<PackView>;
  register(actor: User | null, input: { image: string; manifest: unknown }): Promise<PackView>;
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
}): PackRegistry {
  let registered: LanguagePack[] = [];
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
    };
  };
  const all = (): Array<[LanguagePack, PackView['origin']]> => [...deps.stock.map((p) => [p, 'stock'] as [LanguagePack, PackView['origin']]), ...registered.map((p) => [p, 'registered'] as [LanguagePack, PackView['origin']])];
  const find = (name: string): [LanguagePack, PackView['origin']] => {
    const hit = all().find(([p]) => p.name === name);
    if (!hit) throw notFound(`no language pack named '${name}'`);
    return hit;
  };
  return {
    packs: () => [...deps.stock, ...registered],
    async load() {
      registered = (await deps.store.list()).map((r) => packFromManifest(r.manifest, r.image));
    },
    async list(query) {
      const q = query?.toLowerCase();
      const hits = all().filter(([p]) => !q || p.name.includes(q) || p.version.toLowerCase().includes(q));
      return Promise.all(hits.map(([p, o]) => view(p, o)));
    },
    async get(name) {
      const [p, o] = find(name);
      return view(p, o);
    },
    async register(actor, input) {
      admin(actor);
      if (!/^[\w][\w.:/@-]{0,254}$/.test(input.image)) throw badRequest('give a local image reference');
      const pack = packFromManifest(input.manifest, input.image);
      if (pack.kind !== 'builder') throw badRequest('registered packs run their build command in their image (kind builder)');
      if (stockNames.has(pack.name)) throw conflict(`'${pack.name}' is a stock language pack`);
      const imageId = await deps.imageId(input.image);
      if (!imageId) throw new AppError('not_found', `no local image '${input.image}' on this Docker engine`);
      const added = await deps.store.add({ name: pack.name, version: pack.version, image: input.image, imageId, manifest: input.manifest, createdBy: actor?.name ?? 'admin' });
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
      const [, origin] = find(name);
      if (origin === 'stock') throw conflict(`'${name}' is a stock language pack and cannot be removed`);
      const apps = await deps.apps.listApps({});
      const pinned = apps.filter((a) => a.languagePack === name).map((a) => a.name);
      if (pinned.length > 0) throw conflict(`apps pin '${name}': ${pinned.join(', ')}`);
      // In use: an app whose newest successful build came from this pack (its next rebuild needs it).
      for (const a of apps) {
        const newest = (await deps.builds.listBuilds(a.id)).find((b) => b.status === 'succeeded');
        if (newest?.languagePack === name) throw conflict(`'${a.name}' was last built with '${name}'`);
      }
      await deps.store.remove(name);
      registered = registered.filter((p) => p.name !== name);
    },
  };
}
