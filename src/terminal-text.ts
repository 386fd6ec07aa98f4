// Output shown to other people (build logs, stage logs, app logs) is text, not terminal commands:
// escape sequences that move the cursor, set the window title, write hyperlinks or the clipboard
// (OSC 52) and other control characters are removed before anything is stored or streamed, and so
// are credentials written into URLs (a source or buildpack URL with a token in it).

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), DCS/SOS/PM/APC (ESC P|X|^|_ … ST), the 8-bit forms
// of those introducers, and any other two-character escape.
// eslint-disable-next-line no-control-regex
const SEQUENCES = /\u001b\[[0-?]*[ -/]*[@-~]|\u009b[0-?]*[ -/]*[@-~]|(?:\u001b\]|\u009d)[^\u0007\u001b\u009c]*(?:\u0007|\u001b\\|\u009c)?|(?:\u001b[PX^_]|[\u0090\u0098\u009e\u009f])[^\u001b\u009c]*(?:\u001b\\|\u009c)?|\u001b[\s\S]?/g;
// C0 controls but tab, DEL and the remaining C1 controls.
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

// scheme://user:password@ and, for http(s), scheme://token@ (tokens are often given as the user name).
const URL_USERINFO = /\b([a-z][a-z0-9+.-]*):\/\/([^\s/?#@:]*)(:[^\s/?#@]*)?@/gi;

/**
 * Text with the credentials inside any URL replaced by `***`: the password of user:password, the
 * whole user part of an http(s) URL (a token given as the user name). An ssh user name stays. Pure.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(URL_USERINFO, (all, scheme: string, user: string, password: string | undefined) => {
    if (password !== undefined) return `${scheme}://${user}:***@`;
    return /^https?$/i.test(scheme) && user !== '' ? `${scheme}://***@` : all;
  });
}

/**
 * One line as it is safe to show: escape sequences and control characters removed; a carriage-return
 * progress bar keeps only what was drawn last; credentials in URLs masked. Pure.
 */
export function printableLine(text: string): string {
  const clean = text.replace(SEQUENCES, '');
  const last = clean.includes('\r') ? (clean.split('\r').filter((s) => s !== '').pop() ?? '') : clean;
  return maskUrlCredentials(last.replace(CONTROLS, ''));
}

export interface LineSink {
  /** Raw output; split into lines, a partial last line kept until more arrives or end(). */
  output(chunk: Buffer | string): void;
  /** Hands over a partial last line. */
  end(): void;
}

/** A line longer than this is cut into pieces rather than held in memory whole. */
const MAX_LINE = 64 * 1024;

/**
 * Output of a container as lines that are safe to show: cleaned with printableLine, long lines cut,
 * and nothing beyond `maxBytes` (one note says so, the output is dropped, the container goes on).
 */
export function lineSink(o: { readonly maxBytes: number; readonly line: (text: string) => void; readonly truncated: string }): LineSink {
  let bytes = 0;
  let truncated = false;
  let partial = '';
  const decoder = new TextDecoder('utf-8');
  const line = (raw: string): void => { o.line(printableLine(raw)); };
  return {
    output(chunk) {
      if (truncated) return;
      bytes += chunk.length;
      if (bytes > o.maxBytes) {
        truncated = true;
        partial = '';
        o.line(o.truncated);
        return;
      }
      partial += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        line(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
      while (partial.length > MAX_LINE) {
        line(partial.slice(0, MAX_LINE));
        partial = partial.slice(MAX_LINE);
      }
    },
    end() {
      if (partial) line(partial);
      partial = '';
    },
  };
}
