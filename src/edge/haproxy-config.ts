// The router's HAProxy configuration, its map files and its certificate list, rendered from what Solum
// routes (docs/decisions/0017-the-edge.md). Pure: the edge router writes what this returns.
import path from 'node:path';

/** Where the router listens and what it keeps on disk. */
export interface HaproxySettings {
  /** The address every public listener binds (SOLUM_BIND). */
  readonly bind: string;
  readonly httpPort: number;
  /** The TLS listener's port; null when the router serves no HTTPS. */
  readonly httpsPort: number | null;
  /** The router's own directory: configuration, maps, certificate list, admin socket. */
  readonly dir: string;
  /** `<app>.<domain>` names what is deployed. */
  readonly domain: string;
  readonly threads: number;
  /** Solum's loopback listener that answers ACME HTTP-01 challenges. */
  readonly challengePort: number;
  /** Where requests for hosts waiting for a certificate are reported (UDP on loopback); null: none are. */
  readonly reportPort: number | null;
  /** Workers run as nobody in an empty directory (when Solum runs as root). */
  readonly dropPrivileges: boolean;
  /** A certificate the TLS listener holds when no other matches (never shown: strict SNI). */
  readonly defaultCertificate: string;
  /** How long an old worker may keep connections after a reload (WebSockets, long downloads). */
  readonly hardStopAfterSeconds: number;
}

/** A server slot of a backend: a web process's address, or free. */
export interface ServerSlot {
  readonly name: string;
  readonly address: { readonly host: string; readonly port: number } | null;
}

export interface BackendSpec {
  readonly name: string;
  readonly servers: readonly ServerSlot[];
}

/** A TLS certificate file (chain and key) and the host names it is served for. */
export interface CertificateEntry {
  readonly file: string;
  readonly hosts: readonly string[];
  /** The certificate's serial: a new one in the same file is loaded by a reload. */
  readonly serial?: string;
}

/** The maps the configuration reads; each can also be changed at run time. */
export const MAPS = {
  /** Host → backend of the target it names. */
  hosts: 'hosts.map',
  /** Host → 1 when plain-HTTP requests for it are redirected to HTTPS. */
  redirect: 'redirect.map',
  /** Host → 1 while an allowed host waits for its first certificate (its requests are reported). */
  pending: 'pending.map',
  /** Host → the backend of its target's running canary (decision 0019). */
  canary: 'canary.map',
  /** Host → the share of new sessions (1–99) the canary gets. */
  canaryShare: 'canary-share.map',
  /** Host → the cookie value of a session the canary serves (`c-v<version>`). */
  canaryIn: 'canary-in.map',
  /** Host → the cookie value of a session the live release keeps during that canary (`s-v<version>`). */
  canaryOut: 'canary-out.map',
} as const;

/** The cookie that keeps a client on the release it was given while a canary runs. */
export const CANARY_COOKIE = 'solum-canary';

/** The cookie values of a canary of `version`: sessions it serves, and sessions the live release keeps. */
export const canaryCookies = (version: number): { readonly in: string; readonly out: string } => ({ in: `c-v${version}`, out: `s-v${version}` });

/** The backend of a target's canary, beside its live one. */
export const canaryBackendOf = (targetKey: string): string => `${backendOf(targetKey)}-canary`;

export type MapName = keyof typeof MAPS;

export const CRT_LIST = 'certificates.list';
export const ADMIN_SOCKET = 'admin.sock';
export const CONFIG_FILE = 'haproxy.cfg';

/** The backend of a deploy target: keyed by the target's key, never by its name. */
export const backendOf = (targetKey: string): string => `t-${targetKey}`;

/** A server's name within a backend: slot numbers are stable, what they point at is not. */
export const slotName = (i: number): string => `s${i + 1}`;

const address = (host: string, port: number): string => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

/** A bind address as HAProxy reads it: `::` also takes IPv4. */
function bindLine(bind: string, port: number): string {
  if (bind === '::') return `[::]:${port} v4v6`;
  return address(bind, port);
}

/** A string in double quotes for the configuration; `\\n` in it stays HAProxy's escape for a newline. */
const quoted = (s: string): string => `"${s.replace(/"/g, '\\"')}"`;

/** One map file: `key value` lines, sorted so the same routes write the same bytes. */
export function renderMap(entries: ReadonlyMap<string, string>): string {
  return [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k} ${v}\n`).join('');
}

/** The crt-list: each certificate with the host names HAProxy serves it for (SNI). */
export function renderCrtList(certificates: readonly CertificateEntry[]): string {
  return [...certificates]
    .sort((a, b) => (a.file < b.file ? -1 : 1))
    .map((c) => `${c.file} ${[...c.hosts].sort().join(' ')}\n`)
    .join('');
}

/**
 * The whole configuration. `generation` is written into the global description, which the admin
 * socket shows: a reload is done once the socket answers with the new one.
 */
export function renderConfig(s: HaproxySettings, generation: number, backends: readonly BackendSpec[]): string {
  const file = (name: string): string => path.join(s.dir, name);
  const map = (name: MapName): string => file(MAPS[name]);
  const https = s.httpsPort;
  const redirectPort = https === 443 ? '' : `:${https ?? 443}`;
  const lines = [
    '# Solum\'s router. Written by Solum (src/edge/haproxy-config.ts): changes made here are lost at the next write.',
    'global',
    `  description gen-${generation}`,
    `  nbthread ${s.threads}`,
    `  stats socket ${file(ADMIN_SOCKET)} mode 600 level admin expose-fd listeners`,
    `  hard-stop-after ${s.hardStopAfterSeconds}s`,
    '  ssl-default-bind-options ssl-min-ver TLSv1.2 no-tls-tickets',
    '  ssl-default-bind-ciphersuites TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256',
    '  ssl-default-bind-ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
    ...(s.dropPrivileges ? ['  user nobody', '  group nogroup', `  chroot ${file('empty')}`] : []),
    ...(s.reportPort !== null ? [`  log 127.0.0.1:${s.reportPort} len 512 local0 info`] : []),
    '',
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 10m',
    '  timeout server 10m',
    '  timeout tunnel 1h',
    '  timeout http-request 30s',
    '  timeout http-keep-alive 65s',
    '  timeout client-fin 10s',
    // A reload keeps idle client connections until their next request, answered with
    // `connection: close`, so clients never race a closing connection.
    '  option idle-close-on-response',
    '  option dontlognull',
    '  option forwardfor',
    // A refused connection (a process just retired) is tried again on another process.
    '  retries 3',
    '  option redispatch 1',
    '  retry-on conn-failure',
    '',
    'frontend edge',
    `  bind ${bindLine(s.bind, s.httpPort)}`,
    ...(https !== null ? [`  bind ${bindLine(s.bind, https)} ssl crt ${s.defaultCertificate} crt-list ${file(CRT_LIST)} strict-sni alpn h2,http/1.1`] : []),
    ...(s.reportPort !== null
      ? ['  log global', '  log-format "solum-pending %[var(txn.host)]"']
      : ['  no log']),
    '  http-request set-var(txn.host) req.hdr(host),field(1,:),lower',
    '  acl acme path_beg /.well-known/acme-challenge/',
    // Plain-HTTP requests for a host whose app wants HTTPS (and which has a certificate).
    `  http-request redirect code 308 location https://%[var(txn.host)]${redirectPort}%[capture.req.uri] if !{ ssl_fc } !acme { var(txn.host),map(${map('redirect')}) -m found }`,
    ...(s.reportPort !== null ? [`  http-request set-log-level silent unless !{ ssl_fc } !acme { var(txn.host),map(${map('pending')}) -m found }`] : []),
    `  http-request set-var(txn.backend) var(txn.host),map(${map('hosts')})`,
    '  http-request set-header X-Forwarded-Proto https if { ssl_fc }',
    '  http-request set-header X-Forwarded-Proto http if !{ ssl_fc }',
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    // A canary (decision 0019): a client holding this canary's cookie keeps its release; a new
    // session draws: rand(100) below the share goes to the canary. Either way it gets the cookie.
    `  http-request set-var(txn.canary) var(txn.host),map(${map('canary')}) if { var(txn.backend) -m found }`,
    '  acl canary_on var(txn.canary) -m found',
    `  http-request set-var(txn.cin) var(txn.host),map(${map('canaryIn')}) if canary_on`,
    `  http-request set-var(txn.cout) var(txn.host),map(${map('canaryOut')}) if canary_on`,
    `  http-request set-var(txn.share) var(txn.host),map_str_int(${map('canaryShare')},0) if canary_on`,
    `  acl holds_canary req.cook(${CANARY_COOKIE}),strcmp(txn.cin) eq 0`,
    `  acl holds_live req.cook(${CANARY_COOKIE}),strcmp(txn.cout) eq 0`,
    '  http-request set-var(txn.draw) rand(100) if canary_on !holds_canary !holds_live',
    '  acl draws_canary var(txn.draw),sub(txn.share) lt 0',
    '  acl drew var(txn.draw) -m found',
    '  http-request set-var(txn.setcookie) var(txn.cin) if canary_on drew draws_canary',
    '  http-request set-var(txn.setcookie) var(txn.cout) if canary_on drew !draws_canary',
    '  http-request set-var(txn.backend) var(txn.canary) if canary_on holds_canary',
    '  http-request set-var(txn.backend) var(txn.canary) if canary_on drew draws_canary',
    `  http-response add-header Set-Cookie "${CANARY_COOKIE}=%[var(txn.setcookie)]; Path=/; HttpOnly; SameSite=Lax" if { var(txn.setcookie) -m found }`,
    '  use_backend solum-challenges if acme',
    '  use_backend %[var(txn.backend)] if { var(txn.backend) -m found }',
    '  default_backend solum-no-app',
    '',
    'backend solum-challenges',
    `  server solum 127.0.0.1:${s.challengePort}`,
    '',
    'backend solum-no-app',
    `  http-request return status 404 content-type "text/plain; charset=utf-8" lf-string ${quoted('no app named %[var(txn.host),field(1,.)] is deployed\\n')} if { var(txn.host) -m end .${s.domain} }`,
    `  http-request return status 404 content-type "text/plain; charset=utf-8" string ${quoted(`no app here: use http://<app>.${s.domain}:${s.httpPort}/\\n`)}`,
    ...backends.flatMap((b) => [
      '',
      `backend ${b.name}`,
      '  balance roundrobin',
      ...b.servers.map((v) => (v.address ? `  server ${v.name} ${address(v.address.host, v.address.port)}` : `  server ${v.name} 127.0.0.1:9 disabled`)),
    ]),
    '',
  ];
  return lines.join('\n').replace(/\n\n+$/, '\n');
}
