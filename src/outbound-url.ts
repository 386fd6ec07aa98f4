// URLs Solum itself requests on a user's behalf (commit statuses, sources): they may not point at
// this machine's loopback services or at link-local addresses (cloud metadata) unless an admin
// allows it, checked on the URL as written and again on every address its name resolves to.
import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { badRequest } from './errors.js';

/** Whether an IP address is loopback, unspecified, or link-local (v4 or v6, mapped forms too). Pure. */
export function isLocalAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  const v4 = mapped?.[1] ?? (net.isIPv4(ip) ? ip : undefined);
  if (v4) {
    const [a, b] = v4.split('.').map(Number);
    return a === 127 || a === 0 || (a === 169 && b === 254);
  }
  const v6 = ip.toLowerCase();
  return v6 === '::1' || v6 === '::' || /^fe[89ab][0-9a-f]:/.test(v6);
}

/** Host names that always mean this machine. Pure. */
const localName = (host: string): boolean => host === 'localhost' || host.endsWith('.localhost');

/**
 * Parses an http(s) URL a user gave; refuses one naming a loopback or link-local address or
 * `localhost` unless `mayBeLocal`. `what` names the setting in the error. Pure.
 */
export function checkOutboundUrl(raw: string, what: string, mayBeLocal: boolean): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw badRequest(`${what} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest(`${what} is an http(s) URL`);
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (!mayBeLocal && (localName(host) || (net.isIP(host) !== 0 && isLocalAddress(host)))) {
    throw badRequest(`${what} may not point at this machine or a link-local address (${host}); only admins may set such URLs`);
  }
  return url;
}

/** A `lookup` for http.request that fails when a name resolves to a loopback or link-local address. */
export const refuseLocalLookup: net.LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) {
      callback(err, '', 0);
      return;
    }
    const list = addresses;
    const bad = list.find((a) => isLocalAddress(a.address));
    if (bad) {
      callback(Object.assign(new Error(`${hostname} resolves to ${bad.address}, a local address`), { code: 'ELOCALADDRESS' }), '', 0);
      return;
    }
    if (options.all) callback(null, list, 0);
    else callback(null, list[0]?.address ?? '', list[0]?.family ?? 4);
  });
};

/**
 * POSTs JSON and resolves the status code (the answer's body is not read: a receiver cannot hold
 * the connection with an endless one); names resolving to local addresses fail unless allowed.
 */
export function postJson(url: URL, body: string, headers: Record<string, string>, allowLocal: boolean, timeoutMs = 10_000): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = url.protocol === 'https:' ? https.request : http.request;
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: timeoutMs, ...(allowLocal ? {} : { lookup: refuseLocalLookup }) }, (res) => {
      resolve(res.statusCode ?? 0);
      res.destroy();
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(body);
  });
}
