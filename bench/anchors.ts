// The reference servers Solum's git transports are measured against: OpenSSH sshd + git-shell and nginx + fcgiwrap + git http-backend.
import fs from 'node:fs/promises';
import path from 'node:path';
import type { SshIdentity } from '../test/support/solum.js';
import { LOOPBACK, findBinary, freePort, mustRun, startDaemon, waitForPort, type Daemon } from './lib.js';

/** Debian packages the anchors come from; installed by the benchmark when missing (as root, via apt-get). */
export const ANCHOR_PACKAGES = ['openssh-server', 'nginx', 'fcgiwrap'] as const;

export interface Anchor {
  readonly daemons: readonly Daemon[];
  readonly port: number;
  /** The URL of a repository under the anchor's root. */
  url(repoDir: string): string;
}

/** The nginx anchor also serves every repository behind HTTP Basic authentication. */
export interface HttpAnchor extends Anchor {
  /** The URL of a repository behind `auth_basic` (user and password in the URL, as with Solum). */
  authUrl(repoDir: string): string;
}

const BASIC_USER = 'bench';
const BASIC_PASSWORD = 'bench-secret';

/** Installs the anchors' packages when a binary is missing; returns what is still missing. */
export async function ensureAnchorPackages(): Promise<string[]> {
  const missing = async (): Promise<string[]> => {
    const out: string[] = [];
    if (!(await findBinary(['/usr/sbin/sshd']))) out.push('openssh-server');
    if (!(await findBinary(['/usr/sbin/nginx']))) out.push('nginx');
    if (!(await findBinary(['/usr/sbin/fcgiwrap']))) out.push('fcgiwrap');
    return out;
  };
  const before = await missing();
  if (before.length === 0 || process.getuid?.() !== 0 || !(await findBinary(['apt-get']))) return before;
  console.log(`Installing the reference servers: apt-get install -y ${before.join(' ')}`);
  await mustRun('apt-get', ['install', '-y', '-qq', ...before], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return missing();
}

/** OpenSSH sshd on loopback, one authorized key, every session forced through git-shell. */
export async function startSshd(work: string, identity: SshIdentity): Promise<Anchor> {
  const dir = path.join(work, 'sshd');
  await fs.mkdir(dir, { recursive: true });
  await fs.mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const hostKey = path.join(dir, 'ssh_host_ed25519_key');
  await mustRun('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'bench-host', '-f', hostKey]);
  const authorized = path.join(dir, 'authorized_keys');
  await fs.writeFile(authorized, `${identity.publicKey}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = path.join(dir, 'sshd_config');
  await fs.writeFile(
    config,
    [
      `Port ${port}`,
      `ListenAddress ${LOOPBACK}`,
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${authorized}`,
      'PermitRootLogin prohibit-password',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PrintMotd no',
      'PrintLastLog no',
      'X11Forwarding no',
      'AllowTcpForwarding no',
      'AllowAgentForwarding no',
      'PermitTTY no',
      // git speaks protocol v2 over this SSH, as it does with Solum (which accepts GIT_PROTOCOL).
      'AcceptEnv GIT_PROTOCOL',
      // The key exchange Solum's ssh2 negotiates with this client (OpenSSH would otherwise pick the
      // slower sntrup761x25519): both sides then use curve25519-sha256 and chacha20-poly1305.
      'KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org',
      'ForceCommand git-shell -c "$SSH_ORIGINAL_COMMAND"',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const daemon = startDaemon('sshd', '/usr/sbin/sshd', ['-D', '-e', '-f', config]);
  try {
    await waitForPort(port);
  } catch (err) {
    await daemon.stop();
    throw new Error(`sshd did not start: ${daemon.output().trim()}`, { cause: err });
  }
  return { daemons: [daemon], port, url: (repoDir) => `ssh://root@${LOOPBACK}:${port}${repoDir}` };
}

/**
 * nginx in front of fcgiwrap running `git http-backend` for repositories under `projectRoot`, set
 * up the way git's and nginx's documentation suggest: request bodies streamed to the backend,
 * responses streamed back, no gzip. Under /git/ without authentication; under /auth/ behind
 * `auth_basic`, which costs git the same 401 round trip Solum's authentication does (git asks
 * without credentials first).
 */
export async function startNginx(work: string, projectRoot: string): Promise<HttpAnchor> {
  const dir = path.join(work, 'nginx');
  await fs.mkdir(dir, { recursive: true });
  const backend = path.join((await mustRun('git', ['--exec-path'])).stdout.trim(), 'git-http-backend');
  const socket = path.join(dir, 'fcgiwrap.sock');
  const fcgiwrap = startDaemon('fcgiwrap', '/usr/sbin/fcgiwrap', ['-c', '4', '-s', `unix:${socket}`], undefined, { group: true });
  for (let i = 0; i < 100; i++) {
    if (await fs.access(socket).then(() => true, () => false)) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const port = await freePort();
  const config = path.join(dir, 'nginx.conf');
  const tmp = (name: string): string => path.join(dir, name);
  await fs.writeFile(
    config,
    [
      'user root;',
      'daemon off;',
      'master_process on;',
      'worker_processes 1;',
      `pid ${tmp('nginx.pid')};`,
      `error_log ${tmp('error.log')} warn;`,
      'events { worker_connections 64; }',
      'http {',
      '  access_log off;',
      `  client_body_temp_path ${tmp('body')};`,
      `  fastcgi_temp_path ${tmp('fastcgi')};`,
      `  proxy_temp_path ${tmp('proxy')};`,
      `  uwsgi_temp_path ${tmp('uwsgi')};`,
      `  scgi_temp_path ${tmp('scgi')};`,
      '  gzip off;',
      '  server {',
      `    listen ${LOOPBACK}:${port};`,
      ...(['git', 'auth'] as const).flatMap((prefix) => [
        `    location ~ ^/${prefix}(/.*)$ {`,
        ...(prefix === 'auth' ? ['      auth_basic "git";', `      auth_basic_user_file ${tmp('htpasswd')};`] : []),
        '      client_max_body_size 0;',
        '      fastcgi_request_buffering off;',
        '      fastcgi_buffering off;',
        '      include /etc/nginx/fastcgi_params;',
        `      fastcgi_param SCRIPT_FILENAME ${backend};`,
        `      fastcgi_param GIT_PROJECT_ROOT ${projectRoot};`,
        '      fastcgi_param GIT_HTTP_EXPORT_ALL "";',
        '      fastcgi_param PATH_INFO $1;',
        `      fastcgi_param REMOTE_USER ${BASIC_USER};`,
        `      fastcgi_pass unix:${socket};`,
        '    }',
      ]),
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  await fs.writeFile(tmp('htpasswd'), `${BASIC_USER}:{PLAIN}${BASIC_PASSWORD}\n`, { mode: 0o600 });
  const check = await mustRun('/usr/sbin/nginx', ['-t', '-q', '-c', config]).catch((err: unknown) => err as Error);
  if (check instanceof Error) {
    await fcgiwrap.stop();
    throw new Error(`nginx rejects its config: ${check.message}`);
  }
  const nginx = startDaemon('nginx', '/usr/sbin/nginx', ['-c', config]);
  try {
    await waitForPort(port);
  } catch (err) {
    await nginx.stop();
    await fcgiwrap.stop();
    const log = await fs.readFile(tmp('error.log'), 'utf8').catch(() => '');
    throw new Error(`nginx did not start: ${nginx.output().trim()} ${log.trim()}`, { cause: err });
  }
  return {
    daemons: [nginx, fcgiwrap],
    port,
    url: (repoDir) => `http://${LOOPBACK}:${port}/git/${path.relative(projectRoot, repoDir)}`,
    authUrl: (repoDir) => `http://${BASIC_USER}:${BASIC_PASSWORD}@${LOOPBACK}:${port}/auth/${path.relative(projectRoot, repoDir)}`,
  };
}

/** The versions of the anchors, for the notes under the table. */
export async function anchorVersions(): Promise<string> {
  const first = async (cmd: string, args: readonly string[]): Promise<string> => {
    const r = await mustRun(cmd, args).catch(() => ({ stdout: '', stderr: '' }));
    return `${r.stdout}${r.stderr}`.split('\n')[0]?.trim() ?? '';
  };
  return [await first('git', ['--version']), await first('ssh', ['-V']), await first('/usr/sbin/nginx', ['-v'])]
    .filter((s) => s !== '')
    .join('; ');
}
