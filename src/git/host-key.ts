// The SSH host key: an ed25519 key generated on first start and kept in the data dir.
import fs from 'node:fs/promises';
import path from 'node:path';
import ssh2 from 'ssh2';
import { fingerprintOf } from '../access/public-key.js';

const readable = (key: string): boolean => {
  const k = ssh2.utils.parseKey(key);
  return !(k instanceof Error) && !Array.isArray(k);
};

export async function loadOrCreateHostKey(dataDir: string): Promise<{ privateKey: string; fingerprint: string; created: boolean }> {
  const file = path.join(dataDir, 'ssh_host_ed25519_key');
  let privateKey: string;
  let created = false;
  try {
    privateKey = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    // ssh2 now and then generates an ed25519 key its own parser refuses: keep only one it reads.
    let pair = ssh2.utils.generateKeyPairSync('ed25519');
    for (let i = 0; i < 10 && !readable(pair.private); i++) pair = ssh2.utils.generateKeyPairSync('ed25519');
    privateKey = pair.private;
    await fs.writeFile(file, privateKey, { mode: 0o600, flag: 'wx' });
    await fs.writeFile(`${file}.pub`, `${pair.public}\n`, { mode: 0o644 });
    created = true;
  }
  const key = ssh2.utils.parseKey(privateKey);
  if (key instanceof Error || Array.isArray(key)) throw new Error(`unreadable SSH host key ${file}`);
  return { privateKey, fingerprint: fingerprintOf(key.getPublicSSH()), created };
}
