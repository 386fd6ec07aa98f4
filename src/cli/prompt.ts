// Reading what the user types: a piped stdin whole, or one line at a terminal (hidden for secrets).

export const stdinIsTTY = (): boolean => process.stdin.isTTY;

/** All of a piped stdin: `echo $TOKEN | solum login` keeps the token out of argv and shell history. */
export async function readAllStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from the terminal; with `hidden`, nothing is echoed (tokens are passwords). */
export function promptLine(question: string, options: { hidden?: boolean } = {}): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve) => {
    let answer = '';
    const wasRaw = stdin.isRaw;
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (): void => {
      stdin.setRawMode(wasRaw);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      resolve(answer);
    };
    const onData = (data: string): void => {
      for (const ch of data) {
        // Enter or Ctrl-D ends the answer; Ctrl-C leaves, as it would anywhere else.
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          done();
          return;
        }
        if (ch === '\u0003') {
          done();
          process.exit(130);
        }
        if (ch === '\u007f' || ch === '\b') {
          if (answer.length > 0) {
            answer = answer.slice(0, -1);
            if (!options.hidden) process.stderr.write('\b \b');
          }
          continue;
        }
        answer += ch;
        if (!options.hidden) process.stderr.write(ch);
      }
    };
    stdin.on('data', onData);
  });
}
