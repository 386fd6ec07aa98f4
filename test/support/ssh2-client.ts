// A programmatic SSH client (ssh2) for attacks the OpenSSH client will not make.
import fs from 'node:fs';
import ssh2 from 'ssh2';

export type ParsedKey = ssh2.ParsedKey;

export function loadKey(privateKeyPath: string): ParsedKey {
  const k = ssh2.utils.parseKey(fs.readFileSync(privateKeyPath));
  if (k instanceof Error || Array.isArray(k)) throw new Error(`cannot parse ${privateKeyPath}`);
  return k;
}

/** Connects and authenticates with `key`; resolves with the client or rejects with the auth error. */
export function connect(port: number, key: ParsedKey | ParsedKey[]): Promise<ssh2.Client> {
  const keys = Array.isArray(key) ? [...key] : [key];
  return new Promise((resolve, reject) => {
    const client = new ssh2.Client();
    client.on('ready', () => { resolve(client); });
    client.on('error', reject);
    client.on('close', () => { reject(new Error('connection closed before authentication')); });
    client.connect({
      host: '127.0.0.1',
      port,
      username: 'git',
      readyTimeout: 20_000,
      // Offer the keys one by one, then give up.
      authHandler: (_methodsLeft, _partial, next) => {
        const k = keys.shift();
        if (!k) {
          next(false as unknown as ssh2.AuthenticationType);
          return;
        }
        next({ type: 'publickey', username: 'git', key: k });
      },
    });
  });
}

export function exec(client: ssh2.Client, command: string, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    client.exec(command, (err, stream) => {
      if (err) {
        reject(err);
        return;
      }
      let stdout = '';
      let stderr = '';
      let code: number | null = null;
      stream.on('data', (c: Buffer) => (stdout += c.toString()));
      stream.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      stream.on('exit', (c: number | null) => (code = c));
      stream.on('close', () => { resolve({ code, stdout, stderr }); });
      stream.end(stdin);
    });
  });
}
