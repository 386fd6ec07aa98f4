// Merges the many small writes git makes (sideband packets of a few KiB, progress lines) into
// fewer, larger ones before they reach an SSH channel or an HTTP response: every write there costs
// a packet, its encryption or chunk framing, and a syscall (docs/decisions/0011).
import { Transform, type TransformCallback } from 'node:stream';

export interface CoalesceOptions {
  /** Pass on as soon as this much is waiting. */
  readonly maxBytes: number;
  /** Pass on whatever is waiting after this long, so small replies (negotiation, progress) are not held back. */
  readonly maxDelayMs: number;
}

export function coalesce(options: CoalesceOptions): Transform {
  let chunks: Buffer[] = [];
  let size = 0;
  let timer: NodeJS.Timeout | undefined;
  const take = (): Buffer => {
    const out = chunks.length === 1 ? (chunks[0] ?? Buffer.alloc(0)) : Buffer.concat(chunks, size);
    chunks = [];
    size = 0;
    return out;
  };
  const stream = new Transform({
    // Room for a few merged writes on either side before backpressure reaches git.
    readableHighWaterMark: 4 * options.maxBytes,
    writableHighWaterMark: 4 * options.maxBytes,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= options.maxBytes) {
        clearTimeout(timer);
        timer = undefined;
        callback(null, take());
        return;
      }
      timer ??= setTimeout(() => {
        timer = undefined;
        if (size > 0) stream.push(take());
      }, options.maxDelayMs);
      callback();
    },
    flush(callback: TransformCallback) {
      clearTimeout(timer);
      timer = undefined;
      callback(null, size > 0 ? take() : undefined);
    },
    destroy(err, callback) {
      clearTimeout(timer);
      callback(err);
    },
  });
  return stream;
}
