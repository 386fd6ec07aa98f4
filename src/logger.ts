// pino factory: JSON logs with secrets redacted wherever they may appear in a log record, and
// credentials written into URLs (a source URL with a token) masked in every line written.
import { pino, type Logger, type DestinationStream } from 'pino';
import { maskUrlCredentials } from './terminal-text.js';

export type { Logger };

export const redactPaths = [
  'token',
  '*.token',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
  'publicKey',
  '*.publicKey',
  'privateKey',
  '*.privateKey',
  'pushToken',
  '*.pushToken',
  'env.SOLUM_PUSH_TOKEN',
  '*.env.SOLUM_PUSH_TOKEN',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'solum' }, redact: { paths: redactPaths, censor: '[redacted]' }, hooks: { streamWrite: maskUrlCredentials } };
  return destination ? pino(options, destination) : pino(options);
}
