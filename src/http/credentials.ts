// Reads the token a request carries: `Authorization: Bearer <token>` or Basic with the token as password.
import type { IncomingHttpHeaders } from 'node:http';

export function tokenFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const h = headers.authorization;
  if (!h) return undefined;
  const [scheme = '', value = ''] = h.split(' ', 2);
  if (scheme.toLowerCase() === 'bearer') return value.trim() || undefined;
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    return i >= 0 ? decoded.slice(i + 1) || undefined : undefined;
  }
  return undefined;
}
