// Backing services with their container's state and the apps they are linked to (as the config var
// each link sets). The API shows a service to its owner and to admins.
import { isAbort, solum, type ServiceInfo } from './api.js';
import { h, status, table, type Child } from './dom.js';
import { empty } from './page.js';

/** Every service the user may inspect, with its links (or only those linked to `app`). */
export async function loadServices(signal: AbortSignal, app?: string): Promise<ServiceInfo[]> {
  const list = await solum.services(signal);
  const infos = await Promise.all(
    list.map(async (s) => {
      try {
        return await solum.service(s.name, signal);
      } catch (err) {
        if (isAbort(err)) throw err;
        return null;
      }
    }),
  );
  return infos.filter((i): i is ServiceInfo => i !== null && (app === undefined || i.links.some((l) => l.app === app)));
}

export function servicesTable(services: readonly ServiceInfo[], caption: string, emptyText: string): HTMLElement {
  if (services.length === 0) return empty(emptyText);
  return table(
    caption,
    ['Service', 'Kind', 'State', 'Linked to', 'Owner'],
    services.map((s) => ({
      key: s.name,
      cells: [
        h('strong', {}, s.name),
        s.kind,
        status(s.state),
        s.links.length === 0
          ? h('span', { class: 'muted' }, 'no app')
          : h('ul', { class: 'plain' }, ...s.links.map((l) => h('li', {}, h('a', { href: `#/apps/${encodeURIComponent(l.app)}` }, l.app), ' as ', h('code', {}, l.envVar)))),
        s.owner ?? '—',
      ] satisfies Child[],
    })),
  );
}
