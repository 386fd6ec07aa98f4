// The API described as OpenAPI 3.1: every route the router has, with the zod schemas that validate
// its request bodies turned into JSON Schema. The descriptions come from the operations' contracts
// (and the few hand routes' own); a route without one stops the API from starting, so the document
// cannot fall behind the code.
import { z } from 'zod';

export interface RouteDoc {
  readonly summary: string;
  /** The schema the handler validates its JSON body with. */
  readonly body?: z.ZodType;
  /** A non-JSON request body. */
  readonly rawBody?: string;
  /** text/plain or text/event-stream answers. */
  readonly produces?: 'text' | 'event-stream' | 'prometheus' | 'binary' | 'ndjson';
  /** Routes that need no token. */
  readonly public?: boolean;
  /** Who may call it (the operation's access rule), shown as `x-solum-access`. */
  readonly access?: string;
}

export interface RouteInfo {
  readonly method: string;
  readonly path: string;
}

const openApiPath = (p: string): string => p.replace(/:([A-Za-z]+)/g, '{$1}');

export function openApiDocument(routes: readonly RouteInfo[], docs: Readonly<Record<string, RouteDoc>>): Record<string, unknown> {
  const undocumented = routes.filter((r) => !(`${r.method} ${r.path}` in docs));
  if (undocumented.length > 0) throw new Error(`routes missing from the OpenAPI description: ${undocumented.map((r) => `${r.method} ${r.path}`).join(', ')}`);
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const doc = docs[`${r.method} ${r.path}`];
    if (!doc) continue;
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const content =
      doc.produces === 'text'
        ? { 'text/plain': { schema: { type: 'string' } } }
        : doc.produces === 'event-stream'
          ? { 'text/event-stream': { schema: { type: 'string' } } }
          : doc.produces === 'prometheus'
            ? { 'text/plain; version=0.0.4': { schema: { type: 'string' } } }
            : doc.produces === 'binary'
              ? { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } }
              : doc.produces === 'ndjson'
                ? { 'application/x-ndjson': { schema: { type: 'string' } } }
                : { 'application/json': { schema: {} } };
    const op: Record<string, unknown> = {
      summary: doc.summary,
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[/:{}-](\w)/g, (_, c: string) => c.toUpperCase()).replace(/[^\w]/g, '')}`,
      ...(params.length > 0 ? { parameters: params } : {}),
      ...(doc.public ? { security: [] } : {}),
      ...(doc.access ? { 'x-solum-access': doc.access } : {}),
      responses: {
        default: { description: 'error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        '2XX': { description: 'success', content },
      },
    };
    const body = {
      ...(doc.body ? { 'application/json': { schema: z.toJSONSchema(doc.body, { io: 'input', unrepresentable: 'any' }) } } : {}),
      ...(doc.rawBody ? { [doc.rawBody]: { schema: { type: 'string', format: 'binary' } } } : {}),
    };
    if (Object.keys(body).length > 0) op.requestBody = { required: true, content: body };
    (paths[openApiPath(r.path)] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Solum API', version: '1', description: 'Self-hosted git server with push-triggered builds and deploys.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
    },
    paths,
  };
}
