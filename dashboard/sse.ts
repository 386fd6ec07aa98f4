// A Server-Sent Events reader over a fetch() body (EventSource cannot send an Authorization header).

export interface ServerSentEvent {
  /** The `event:` field, "message" when absent. */
  readonly event: string;
  readonly data: string;
  /** The last event ID seen so far (it carries over to later events, as in EventSource). */
  readonly id: string;
}

/**
 * Parses an event stream as the HTML standard describes it: lines end in CRLF, LF or CR (also
 * across chunk boundaries), `:` starts a comment, a blank line dispatches the event.
 */
export class EventStreamParser {
  private buffer = '';
  private started = false;
  private event = '';
  private data: string[] = [];
  private lastId = '';

  /** Feeds decoded text and returns the events it completed. */
  push(text: string): ServerSentEvent[] {
    this.buffer += text;
    if (!this.started && this.buffer.length > 0) {
      this.started = true;
      if (this.buffer.startsWith('\uFEFF')) this.buffer = this.buffer.slice(1);
    }
    const events: ServerSentEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = this.buffer.indexOf('\r', start);
      const lf = this.buffer.indexOf('\n', start);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        // A CR at the very end may be the first half of a CRLF still in flight.
        if (cr === this.buffer.length - 1) break;
        end = cr;
        next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      const ev = this.line(this.buffer.slice(start, end));
      if (ev) events.push(ev);
      start = next;
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The end of the stream: a pending CR still ends its line; an event without its blank line is dropped. */
  end(): ServerSentEvent[] {
    const events: ServerSentEvent[] = [];
    if (this.buffer.endsWith('\r')) {
      const ev = this.line(this.buffer.slice(0, -1));
      if (ev) events.push(ev);
    }
    this.buffer = '';
    return events;
  }

  private line(line: string): ServerSentEvent | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.event = value;
        break;
      case 'data':
        this.data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      default:
        // `retry` and unknown fields: nothing to do for a reader that reconnects by itself.
        break;
    }
    return null;
  }

  private dispatch(): ServerSentEvent | null {
    const hasData = this.data.length > 0;
    const ev = { event: this.event || 'message', data: this.data.join('\n'), id: this.lastId };
    this.event = '';
    this.data = [];
    return hasData ? ev : null;
  }
}

/** The events of a response body, as they arrive. Stops reading when the caller stops iterating. */
export async function* readEventStream(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerSentEvent, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const parser = new EventStreamParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
