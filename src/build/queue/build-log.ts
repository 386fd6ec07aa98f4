// A build's log: splits output into lines, publishes each at once and stores them in batches.
import type { BuildStore } from '../../db/build-store.js';
import type { BuildEvents } from './build-events.js';
import { printableLine } from '../../terminal-text.js';

export interface BuildLog {
  /** Raw output from the builder; partial lines are held until their newline. */
  output(chunk: Buffer | string): void;
  /** A whole line from Solum itself (headings, results). */
  line(text: string): void;
  /** Stores what is pending (the log stays open). */
  flush(): Promise<void>;
  /** Flushes what is pending to the store. */
  close(): Promise<void>;
}

const FLUSH_MS = 250;
const FLUSH_BYTES = 64 * 1024;

export function createBuildLog(deps: {
  buildId: number;
  store: BuildStore;
  events: BuildEvents;
  /** Builder output kept, in bytes; Solum's own lines are always kept. */
  maxBytes: number;
  onStoreError: (err: unknown) => void;
  /** Where an already stored log ends, for lines added after the build (its release). */
  after?: { readonly seq: number; readonly lines: number };
}): BuildLog {
  let outputBytes = 0;
  let truncated = false;
  let partial = '';
  let pending: string[] = [];
  let pendingBytes = 0;
  let seq = deps.after?.seq ?? 0;
  let lines = deps.after?.lines ?? 0;
  let timer: NodeJS.Timeout | undefined;
  let writing: Promise<void> = Promise.resolve();
  const decoder = new TextDecoder('utf-8');

  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return writing;
    const chunk = pending.join('');
    pending = [];
    pendingBytes = 0;
    const n = ++seq;
    writing = writing.then(() => deps.store.appendLog(deps.buildId, n, chunk)).catch(deps.onStoreError);
    return writing;
  };

  const emit = (text: string): void => {
    const line = printableLine(text);
    deps.events.line(deps.buildId, line, ++lines);
    pending.push(`${line}\n`);
    pendingBytes += line.length + 1;
    if (pendingBytes >= FLUSH_BYTES) void flush();
    else timer ??= setTimeout(() => void flush(), FLUSH_MS);
  };

  return {
    output(chunk) {
      if (truncated) return;
      outputBytes += chunk.length;
      if (outputBytes > deps.maxBytes) {
        truncated = true;
        partial = '';
        emit(`!     build output truncated: more than ${deps.maxBytes} bytes; the build goes on`);
        return;
      }
      partial += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        emit(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    },
    line(text) {
      if (partial !== '') {
        emit(partial);
        partial = '';
      }
      emit(text);
    },
    flush,
    async close() {
      if (partial !== '') {
        emit(partial);
        partial = '';
      }
      await flush();
    },
  };
}
