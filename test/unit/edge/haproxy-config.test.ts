// The router's HAProxy configuration as Solum writes it.
import test from 'ava';
import { backendOf, CANARY_COOKIE, canaryBackendOf, canaryCookies, renderConfig, renderCrtList, renderMap, slotName, type HaproxySettings } from '../../../src/edge/haproxy-config.js';

const settings: HaproxySettings = {
  bind: '127.0.0.1',
  httpPort: 8080,
  httpsPort: 8443,
  dir: '/data/edge/router',
  domain: 'localhost',
  threads: 2,
  challengePort: 40001,
  reportPort: null,
  dropPrivileges: false,
  defaultCertificate: '/data/edge/tls/default.pem',
  hardStopAfterSeconds: 600,
};

test('the configuration: listeners, TLS with h2, routing by map, retries on refused connections, generation in the description', (t) => {
  const cfg = renderConfig(settings, 7, [{ name: backendOf('app-3'), servers: [{ name: slotName(0), address: { host: '127.0.0.2', port: 5000 } }, { name: slotName(1), address: null }] }]);
  t.regex(cfg, /description gen-7\n/);
  t.regex(cfg, /nbthread 2\n/);
  t.regex(cfg, /bind 127\.0\.0\.1:8080\n/);
  t.regex(cfg, /bind 127\.0\.0\.1:8443 ssl crt \/data\/edge\/tls\/default\.pem crt-list \/data\/edge\/router\/certificates\.list strict-sni alpn h2,http\/1\.1\n/);
  t.regex(cfg, /map\(\/data\/edge\/router\/hosts\.map\)/);
  t.regex(cfg, /retry-on conn-failure/);
  t.regex(cfg, /option redispatch 1/);
  t.regex(cfg, /backend t-app-3\n {2}balance roundrobin\n {2}server s1 127\.0\.0\.2:5000\n {2}server s2 127\.0\.0\.1:9 disabled\n/);
  t.regex(cfg, /backend solum-challenges\n {2}server solum 127\.0\.0\.1:40001\n/);
  t.regex(cfg, /redirect code 308 location https:\/\/%\[var\(txn\.host\)\]:8443%\[capture\.req\.uri\] if !\{ ssl_fc \} !acme/);
  t.notRegex(cfg, /user nobody/);
  t.notRegex(cfg, /log 127/);
});

test('no TLS listener when HTTPS is off; :: binds both families; root drops privileges; reports go to loopback', (t) => {
  const cfg = renderConfig({ ...settings, bind: '::', httpsPort: null, dropPrivileges: true, reportPort: 40002 }, 1, []);
  t.regex(cfg, /bind \[::\]:8080 v4v6\n/);
  t.notRegex(cfg, / ssl crt /);
  t.regex(cfg, /user nobody\n {2}group nogroup\n {2}chroot \/data\/edge\/router\/empty\n/);
  t.regex(cfg, /log 127\.0\.0\.1:40002 len 512 local0 info/);
  t.regex(cfg, /set-log-level silent unless/);
});

test('the redirect keeps the port unless it is 443', (t) => {
  t.regex(renderConfig({ ...settings, httpsPort: 443 }, 1, []), /location https:\/\/%\[var\(txn\.host\)\]%\[capture\.req\.uri\]/);
});

test('maps and the certificate list are sorted, so the same routes write the same bytes', (t) => {
  t.is(renderMap(new Map([['b.localhost', 't-app-2'], ['a.localhost', 't-app-1']])), 'a.localhost t-app-1\nb.localhost t-app-2\n');
  t.is(renderMap(new Map()), '');
  t.is(renderCrtList([{ file: '/t/b.pem', hosts: ['b.example'] }, { file: '/t/a.pem', hosts: ['z.example', 'a.example'] }]), '/t/a.pem a.example z.example\n/t/b.pem b.example\n');
});

test('backends are named by target key, never by name', (t) => {
  t.is(backendOf('env-4'), 't-env-4');
  t.is(slotName(0), 's1');
});

test('a canary: its backend beside the live one, cookie values per canary version, a rand(100) draw against the share only for sessions without this canary\'s cookie', (t) => {
  t.is(canaryBackendOf('app-3'), 't-app-3-canary');
  t.deepEqual(canaryCookies(4), { in: 'c-v4', out: 's-v4' });
  t.is(CANARY_COOKIE, 'solum-canary');
  const cfg = renderConfig(settings, 2, [
    { name: backendOf('app-3'), servers: [{ name: slotName(0), address: { host: '127.0.0.2', port: 5000 } }] },
    { name: canaryBackendOf('app-3'), servers: [{ name: slotName(0), address: { host: '127.0.0.3', port: 5000 } }] },
  ]);
  t.regex(cfg, /backend t-app-3-canary\n {2}balance roundrobin\n {2}server s1 127\.0\.0\.3:5000\n/);
  t.regex(cfg, /set-var\(txn\.canary\) var\(txn\.host\),map\(\/data\/edge\/router\/canary\.map\)/);
  t.regex(cfg, /set-var\(txn\.share\) var\(txn\.host\),map_str_int\(\/data\/edge\/router\/canary-share\.map,0\) if canary_on/);
  t.regex(cfg, /acl holds_canary req\.cook\(solum-canary\),strcmp\(txn\.cin\) eq 0/);
  t.regex(cfg, /acl holds_live req\.cook\(solum-canary\),strcmp\(txn\.cout\) eq 0/);
  t.regex(cfg, /set-var\(txn\.draw\) rand\(100\) if canary_on !holds_canary !holds_live/);
  t.regex(cfg, /acl draws_canary var\(txn\.draw\),sub\(txn\.share\) lt 0/);
  t.regex(cfg, /set-var\(txn\.backend\) var\(txn\.canary\) if canary_on holds_canary\n/);
  t.regex(cfg, /set-var\(txn\.backend\) var\(txn\.canary\) if canary_on drew draws_canary\n/);
  t.regex(cfg, /http-response add-header Set-Cookie "solum-canary=%\[var\(txn\.setcookie\)\]; Path=\/; HttpOnly; SameSite=Lax" if \{ var\(txn\.setcookie\) -m found \}/);
  // The canary's choice is made after the host's backend is known and before it is used.
  t.true(cfg.indexOf('map(/data/edge/router/hosts.map)') < cfg.indexOf('canary.map'));
  t.true(cfg.indexOf('if canary_on drew draws_canary') < cfg.indexOf('use_backend %[var(txn.backend)]'));
});
