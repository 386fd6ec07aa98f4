// knex-pglite with one fix: it reports a DELETE as command "DEL", so knex returns the raw
// response instead of the affected-row count and every `delete() === 1` check fails on PGlite.
import ClientPgLite from 'knex-pglite';

interface QueryObject {
  method?: string;
}

type ProcessResponse = (obj: QueryObject, runner: unknown) => unknown;

// knex's Client type does not declare processResponse, though every dialect implements it.
const parent = (ClientPgLite.prototype as unknown as { processResponse: ProcessResponse }).processResponse;

export class PgLiteClient extends ClientPgLite {
  processResponse(obj: QueryObject, runner: unknown): unknown {
    return parent.call(this, obj.method === 'del' ? { ...obj, method: 'delete' } : obj, runner);
  }
}
