// Which host names an app may answer to: pure rules (decision 0017). An app's own host is
// `<app>.<domain>`; a custom domain is any other DNS name an admin adds, or one a tenant adds that
// the operator allowed in SOLUM_CUSTOM_DOMAINS (`example.com` itself, `*.example.com` its subdomains).

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** A DNS host name, lower case, without a trailing dot; undefined when it is not one (IPs are not). */
export function parseHost(raw: string): string | undefined {
  const host = raw.trim().toLowerCase().replace(/\.$/, '');
  if (host.length === 0 || host.length > 253) return undefined;
  const labels = host.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
  // The last label of a name is never all digits: that is an IPv4 address.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return undefined;
  return host;
}

/** Whether a host matches one of the operator's patterns. */
export function matchesPattern(host: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.startsWith('*.') ? host.endsWith(p.slice(1)) && host.length > p.length - 1 : host === p));
}

/**
 * Why `host` may not be added as a custom domain by this caller, or undefined when it may. Names
 * under the router's domain are apps' own names, for no one to take.
 */
export function refuseDomain(host: string, o: { isAdmin: boolean; allowed: readonly string[]; routerDomain: string }): string | undefined {
  if (host === o.routerDomain || host.endsWith(`.${o.routerDomain}`)) return `${host} is under ${o.routerDomain}, where apps answer to their own names: choose a domain of your own`;
  if (o.isAdmin) return undefined;
  if (matchesPattern(host, o.allowed)) return undefined;
  return o.allowed.length === 0
    ? `only admins may add custom domains here (SOLUM_CUSTOM_DOMAINS allows none)`
    : `${host} is not among the domains you may add (${o.allowed.join(', ')}): ask an admin`;
}
