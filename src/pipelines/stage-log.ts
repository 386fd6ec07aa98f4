// A pipeline stage's output: into its stored log and to whoever follows the run (the push), bounded.
import type { Logger } from '../logger.js';
import type { PipelineStage, PipelineStore } from '../db/pipeline-store.js';
import { lineSink, printableLine } from '../terminal-text.js';

export interface StageLog {
  line(text: string): void;
  /** Raw output; split into lines, a partial last line kept until more arrives or close(). */
  output(chunk: Buffer | string): void;
  /** Writes a partial last line and waits until everything is stored. */
  close(): Promise<void>;
}

const FLUSH_MS = 250;
const FLUSH_BYTES = 64 * 1024;

/**
 * A stage's log, bounded like a build's: output beyond `maxBytes` is dropped with one note (the
 * stage goes on), lines are cleaned of terminal controls, and the store is written in batches, so a
 * test that prints without end costs neither memory nor a write per line.
 */
export function createStageLog(store: Pick<PipelineStore, 'appendLog'>, stage: PipelineStage, say: (line: string) => void, log: Logger, maxBytes: number): StageLog {
  let writing = Promise.resolve();
  let pending: string[] = [];
  let pendingBytes = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return writing;
    const text = pending.join('');
    pending = [];
    pendingBytes = 0;
    // The cap counts the stage's output; its own lines (the truncation note, the verdict) always fit.
    writing = writing.then(() => store.appendLog(stage.id, text, maxBytes + 64 * 1024)).catch((err: unknown) => { log.error({ err }, 'storing a stage log failed'); });
    return writing;
  };
  const line = (raw: string): void => {
    const text = printableLine(raw);
    say(text);
    pending.push(`${text}\n`);
    pendingBytes += text.length + 1;
    if (pendingBytes >= FLUSH_BYTES) void flush();
    else timer ??= setTimeout(() => void flush(), FLUSH_MS);
  };
  const sink = lineSink({ maxBytes, line, truncated: `!     output truncated: more than ${maxBytes} bytes; the stage goes on` });
  return {
    line,
    output: (chunk) => { sink.output(chunk); },
    async close() {
      sink.end();
      await flush();
    },
  };
}

/** What a test job's result means for its stage: undefined when it passed, else why not. Pure. */
export function testFailure(r: { exitCode: number; oomKilled: boolean; timedOut: boolean }, timeoutMs: number): string | undefined {
  if (r.timedOut) return `the test timed out after ${Math.round(timeoutMs / 1000)}s`;
  if (r.oomKilled) return 'the test ran out of memory';
  return r.exitCode === 0 ? undefined : `the test exited with status ${r.exitCode}`;
}
