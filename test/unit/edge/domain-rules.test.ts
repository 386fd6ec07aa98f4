// Which host names an app may answer to.
import test from 'ava';
import { matchesPattern, parseHost, refuseDomain } from '../../../src/edge/domain-rules.js';

test('host names: lower case, no trailing dot, at least two labels, no IP addresses', (t) => {
  t.is(parseHost('WWW.Example.COM.'), 'www.example.com');
  t.is(parseHost('a-b.example.org'), 'a-b.example.org');
  for (const bad of ['', 'localhost', '127.0.0.1', '-a.example.com', 'a..example.com', 'a_b.example.com', 'exa mple.com', `${'a'.repeat(64)}.com`, 'http://x.com', '*.example.com']) t.is(parseHost(bad), undefined, bad);
});

test('patterns: a name itself, or with *. its subdomains (not the name)', (t) => {
  t.true(matchesPattern('example.com', ['example.com']));
  t.false(matchesPattern('www.example.com', ['example.com']));
  t.true(matchesPattern('www.example.com', ['*.example.com']));
  t.true(matchesPattern('a.b.example.com', ['*.example.com']));
  t.false(matchesPattern('example.com', ['*.example.com']));
  t.false(matchesPattern('badexample.com', ['*.example.com']));
});

test('admins add any domain; tenants those allowed; nobody a name under the router domain', (t) => {
  const o = { allowed: ['*.apps.example.com'], routerDomain: 'solum.example.net' };
  t.is(refuseDomain('shop.example.org', { ...o, isAdmin: true }), undefined);
  t.is(refuseDomain('shop.apps.example.com', { ...o, isAdmin: false }), undefined);
  t.regex(refuseDomain('shop.example.org', { ...o, isAdmin: false }) ?? '', /not among the domains you may add \(\*\.apps\.example\.com\)/);
  t.regex(refuseDomain('other.solum.example.net', { ...o, isAdmin: true }) ?? '', /apps answer to their own names/);
  t.regex(refuseDomain('solum.example.net', { ...o, isAdmin: true }) ?? '', /under solum\.example\.net/);
  t.regex(refuseDomain('x.example.org', { allowed: [], routerDomain: 'localhost', isAdmin: false }) ?? '', /only admins/);
});
