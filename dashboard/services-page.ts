// The services page (#/services): the backing services the user owns (admins: all) with state and links.
import { h } from './dom.js';
import { pageHeading, type PageContext } from './page.js';
import { loadServices, servicesTable } from './services-section.js';

export async function servicesPage(ctx: PageContext): Promise<Node[]> {
  ctx.setTitle('Services');
  const services = await loadServices(ctx.signal);
  return [
    pageHeading('Backing services'),
    h('p', { class: 'lead' }, ctx.user.admin ? 'Every instance (you are an admin).' : 'The instances you own.', ' Create and link them with ', h('code', {}, 'solum services:create'), '.'),
    servicesTable(services, 'Backing services', 'No backing services.'),
  ];
}
