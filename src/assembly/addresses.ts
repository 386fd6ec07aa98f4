// Where this server is reached, for links printed to pushers and reported to commit statuses: the
// HTTP port is only known once the server listens (it may be 0 in the configuration).
import type { Config } from '../config.js';

export interface Addresses {
  /** The API's base URL, e.g. http://127.0.0.1:3000 */
  api(): string;
  buildUrl(id: number): string;
  runUrl(id: number): string;
  webhookUrl(app: string): string;
  /** Called once the HTTP server listens. */
  listening(httpPort: number): void;
}

export function createAddresses(config: Config): Addresses {
  const port = { http: config.httpPort };
  const api = (): string => `${config.tls ? 'https' : 'http'}://${config.publicHost}:${String(port.http)}`;
  return {
    api,
    buildUrl: (id) => `${api()}/v1/builds/${id}`,
    runUrl: (id) => `${api()}/v1/pipeline-runs/${id}`,
    webhookUrl: (app) => `${api()}/v1/apps/${app}/webhook`,
    listening(httpPort) {
      port.http = httpPort;
    },
  };
}
