// The program git runs as pre-receive: hands the push to the Solum server over loopback with the
// per-push token, copies the streamed reply to the pusher and exits with the server's verdict.
import http from 'node:http';
import { decodeLine, type HookRequest } from './hook-protocol.js';

function fail(message: string): void {
  process.stderr.write(`${message}\n`);
  process.exitCode = 1;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function pushOptions(env: NodeJS.ProcessEnv): string[] {
  const n = Number(env.GIT_PUSH_OPTION_COUNT ?? '0');
  const out: string[] = [];
  for (let i = 0; i < n && i < 100; i++) out.push(env[`GIT_PUSH_OPTION_${i}`] ?? '');
  return out;
}

async function main(): Promise<void> {
  const url = process.env.SOLUM_HOOK_URL;
  const token = process.env.SOLUM_PUSH_TOKEN;
  const input = await readStdin();
  if (!url || !token) {
    fail('!     this repository accepts pushes only through the Solum server');
    return;
  }
  const refs = input
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [oldSha = '', newSha = '', ref = ''] = l.split(' ');
      return { oldSha, newSha, ref };
    });
  const body: HookRequest = {
    refs,
    quarantine: {
      objectDirectory: process.env.GIT_OBJECT_DIRECTORY ?? null,
      alternateObjectDirectories: process.env.GIT_ALTERNATE_OBJECT_DIRECTORIES ?? null,
      quarantinePath: process.env.GIT_QUARANTINE_PATH ?? null,
    },
    pushOptions: pushOptions(process.env),
  };
  const payload = JSON.stringify(body);
  await new Promise<void>((resolve) => {
    const req = http.request(
      `${url}/internal/hooks/pre-receive`,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${token}` },
      },
      (res) => {
        res.setEncoding('utf8');
        if (res.statusCode !== 200) {
          let text = '';
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            let message = text;
            try {
              message = (JSON.parse(text) as { message?: string }).message ?? text;
            } catch {
              /* plain text body */
            }
            fail(`!     push refused: ${message}`);
            resolve();
          });
          return;
        }
        let buffered = '';
        let exit: number | undefined;
        res.on('data', (c: string) => {
          buffered += c;
          let nl;
          while ((nl = buffered.indexOf('\n')) >= 0) {
            const msg = decodeLine(buffered.slice(0, nl));
            buffered = buffered.slice(nl + 1);
            if (msg?.kind === 'output') process.stderr.write(`${msg.text}\n`);
            else if (msg?.kind === 'exit') exit = msg.code;
          }
        });
        res.on('end', () => {
          if (exit === undefined) fail('!     lost the connection to the Solum server before the build finished');
          else process.exitCode = exit;
          resolve();
        });
        res.on('error', () => {
          fail('!     lost the connection to the Solum server before the build finished');
          resolve();
        });
      },
    );
    req.on('error', (err) => {
      fail(`!     cannot reach the Solum server: ${err.message}`);
      resolve();
    });
    req.end(payload);
  });
}

main().catch((err: unknown) => {
  fail(`!     hook error: ${err instanceof Error ? err.message : String(err)}`);
});
