// A pipeline stage's output: into its stored log and to whoever follows the run (the push).
import type { Logger } from '../logger.js';
import type { PipelineStage, PipelineStore } from '../db/pipeline-store.js';

export interface StageLog {
  line(text: string): void;
  /** Raw output; split into lines, a partial last line kept until more arrives or close(). */
  output(chunk: Buffer | string): void;
  /** Writes a partial last line and waits until everything is stored. */
  close(): Promise<void>;
}

export function createStageLog(store: Pick<PipelineStore, 'appendLog'>, stage: PipelineStage, say: (line: string) => void, log: Logger): StageLog {
  let pending = Promise.resolve();
  const write = (text: string): void => {
    pending = pending.then(() => store.appendLog(stage.id, text)).catch((err: unknown) => { log.error({ err }, 'storing a stage log failed'); });
  };
  let partial = '';
  const line = (text: string): void => {
    say(text);
    write(`${text}\n`);
  };
  return {
    line,
    output(chunk) {
      partial += chunk.toString();
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        const text = partial.slice(0, nl).replace(/\r$/, '');
        partial = partial.slice(nl + 1);
        line(text);
      }
    },
    async close() {
      if (partial) line(partial);
      partial = '';
      await pending;
    },
  };
}

/** What a test job's result means for its stage: undefined when it passed, else why not. Pure. */
export function testFailure(r: { exitCode: number; oomKilled: boolean; timedOut: boolean }, timeoutMs: number): string | undefined {
  if (r.timedOut) return `the test timed out after ${Math.round(timeoutMs / 1000)}s`;
  if (r.oomKilled) return 'the test ran out of memory';
  return r.exitCode === 0 ? undefined : `the test exited with status ${r.exitCode}`;
}
