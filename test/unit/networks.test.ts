// The pure parts of container networking (decision 0014): subnet pools checked against the host and
// carved, the firewall table's rules, and the egress proxy's allow-list and CONNECT parsing.
import test from 'ava';
import { allowedHost, parseAuthority } from '../../src/containers/egress-proxy.js';
import { bridgeName, firewallScript } from '../../src/containers/firewall.js';
import { proxyEnv } from '../../src/containers/networks.js';
import { formatCidr, freeSubnet, gatewayOf, isVanishedDevice, overlaps, parseCidr, parsePools, type Cidr } from '../../src/containers/subnets.js';

const cidr = (s: string): Cidr => {
  const c = parseCidr(s);
  if (!c) throw new Error(s);
  return c;
};
// What this machine has: eth0 on 192.0.2.0/24, DNS at 10.255.255.53.
const host = [
  { cidr: cidr('192.0.2.0/24'), what: 'the address 192.0.2.2/24 of eth0' },
  { cidr: cidr('10.255.255.53/32'), what: 'the DNS server 10.255.255.53' },
];

test('a pool that overlaps a host address, route, DNS server or reserved range is refused, naming what it overlaps', (t) => {
  t.deepEqual(parsePools('10.213.0.0/16', 26, host).map(formatCidr), ['10.213.0.0/16']);
  t.throws(() => parsePools('192.0.2.128/25', 26, host), { message: /overlaps the address 192\.0\.2\.2\/24 of eth0/ });
  t.throws(() => parsePools('10.0.0.0/8', 26, host), { message: /overlaps the DNS server 10\.255\.255\.53/ });
  t.throws(() => parsePools('169.254.0.0/24', 26, host), { message: /reserved range 169\.254\.0\.0\/16/ });
  t.throws(() => parsePools('127.1.0.0/16', 26, host), { message: /reserved/ });
  t.throws(() => parsePools('10.213.0.1/16', 26, host), { message: /not an IPv4 network/ }, 'host bits set');
  t.throws(() => parsePools('fd00::/64', 26, host), { message: /not an IPv4 network/ });
  t.throws(() => parsePools('10.213.0.0/28', 26, host), { message: /smaller than one network/ });
  t.throws(() => parsePools('10.213.0.0/16,10.213.5.0/24', 26, host), { message: /overlaps 10\.213\.0\.0\/16/ });
  t.throws(() => parsePools(' , ', 26, host), { message: /empty/ });
});

test("a route whose device went away while it was listed (iproute2's if<index>) is told apart from named devices", (t) => {
  for (const gone of ['if2492', 'if1']) t.true(isVanishedDevice(gone), gone);
  for (const named of ['eth0', 'ifb0', 'if', 'if12a', 'br-0a1b2c3d4e5f', 'lo', 'wlan0']) t.false(isVanishedDevice(named), named);
});

test('subnets are carved from the pools around every subnet already in use, and run out cleanly', (t) => {
  const pools = [cidr('10.213.0.0/24')];
  const first = freeSubnet(pools, 26, [], 0);
  t.is(first && formatCidr(first), '10.213.0.0/26');
  t.is(first && gatewayOf(first), '10.213.0.1');
  // Another installation's network in the middle of the pool is skipped, whatever its size.
  const next = freeSubnet(pools, 26, [cidr('10.213.0.0/25')], 0);
  t.is(next && formatCidr(next), '10.213.0.128/26');
  t.is(freeSubnet(pools, 26, [cidr('10.213.0.0/24')], 0.5), undefined);
  t.true(overlaps(cidr('10.213.0.0/26'), cidr('10.213.0.32/27')));
  t.false(overlaps(cidr('10.213.0.0/26'), cidr('10.213.0.64/26')));
});

test('firewall: forwarding from and to Solum bridges is dropped except within one network; the host only answers and serves the egress proxy to builds', (t) => {
  const rules = firewallScript({ table: 'solum-abc', prefix: 'sabc123', proxyPort: 41234, appEgress: false });
  t.true(rules.startsWith('table inet solum-abc {'));
  t.regex(rules, /iifname "sabc123\*" fib daddr \. iif oif exists accept/);
  t.regex(rules, /iifname "sabc123\*" drop comment "nothing routed out of a Solum network"/);
  t.regex(rules, /oifname "sabc123\*" drop comment "nothing routed into a Solum network"/);
  t.regex(rules, /iifname "sabc123\*" ct state established,related accept/);
  t.regex(rules, /iifname "sabc123b\*" tcp dport 41234 accept/);
  t.notRegex(rules, /sabc123t\*/, 'app targets get no egress unless the operator allows it');
  t.regex(rules, /iifname "sabc123\*" drop comment "nothing else on the host"\n {2}\}/, 'the last input rule drops everything else');
  t.regex(firewallScript({ table: 'solum-abc', prefix: 'sabc123', proxyPort: 41234, appEgress: true }), /iifname "sabc123t\*" tcp dport 41234 accept/);
  t.notRegex(firewallScript({ table: 'solum-abc', prefix: 'sabc123', proxyPort: undefined, appEgress: true }), /dport/);
  const name = bridgeName('sabc123', 'build', 'ff00ee');
  t.is(name, 'sabc123bff00ee');
  t.true(name.length <= 15, "Linux's interface name limit");
});

test('egress allow-list: exact hosts and *. subdomains only; CONNECT targets parsed strictly', (t) => {
  const allow = ['registry.npmjs.org', '*.pythonhosted.org'];
  t.true(allowedHost(allow, 'registry.npmjs.org'));
  t.true(allowedHost(allow, 'REGISTRY.npmjs.org.'));
  t.true(allowedHost(allow, 'files.pythonhosted.org'));
  t.false(allowedHost(allow, 'pythonhosted.org'));
  t.false(allowedHost(allow, 'evil-registry.npmjs.org'));
  t.false(allowedHost(allow, 'registry.npmjs.org.evil.example'));
  t.false(allowedHost(allow, '169.254.169.254'));
  t.deepEqual(parseAuthority('registry.npmjs.org:443'), { host: 'registry.npmjs.org', port: 443 });
  t.deepEqual(parseAuthority('[::1]:443'), { host: '::1', port: 443 });
  t.is(parseAuthority('registry.npmjs.org'), undefined);
  t.is(parseAuthority('a b:443'), undefined);
  t.is(parseAuthority('x:99999'), undefined);
});

test('proxy environment: upper- and lower-case proxies, the CA variables only with a bundle', (t) => {
  t.deepEqual(proxyEnv(undefined, { http: 'http://10.213.0.1:3128', https: 'http://10.213.0.1:3128', no: undefined }), {
    HTTP_PROXY: 'http://10.213.0.1:3128',
    http_proxy: 'http://10.213.0.1:3128',
    HTTPS_PROXY: 'http://10.213.0.1:3128',
    https_proxy: 'http://10.213.0.1:3128',
  });
  t.like(proxyEnv('/etc/ssl/certs/ca-certificates.crt', { http: undefined, https: undefined, no: undefined }), { NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', SSL_CERT_FILE: '/etc/ssl/certs/ca-certificates.crt' });
});
