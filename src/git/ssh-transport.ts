// SSH git transport (ssh2): public-key authentication bound only after a verified signature, exec
// of git-receive-pack / git-upload-pack for one app, and nothing else.
import type { AddressInfo } from 'node:net';
import { finished as streamFinished } from 'node:stream/promises';
import ssh2 from 'ssh2';
import type { Authenticator } from '../access/authenticator.js';
import type { User } from '../db/user-store.js';
import { publicError } from '../errors.js';
import { watchAccess } from '../http/access-watch.js';
import type { Logger } from '../logger.js';
import type { AppRole } from '../roles.js';
import { coalesce } from './coalesce.js';
import { parseGitExec } from './exec-command.js';
import { acceptedGitProtocol, type GitAccess } from './git-access.js';
import { startGit, type GitChild } from './git-process.js';
import { splitCommand, type SshCommands } from './ssh-commands.js';
import type { InteractiveSessions, PtyRequest } from './ssh-run.js';

/** How git's output is merged before it is written to a channel (see coalesce.ts). */
const WRITE_BATCH = { maxBytes: 64 * 1024, maxDelayMs: 1 };

/** How long a pty request waits for the exec that says whether it is a session (`run`) that may have one. */
const PTY_ANSWER_MS = 250;

export interface SshTransportOptions {
  readonly hostKey: string;
  readonly bind: string;
  readonly port: number;
  readonly authenticator: Authenticator;
  readonly access: GitAccess;
  readonly commands: SshCommands;
  readonly logger: Logger;
  /** Failed authentication attempts allowed per connection. */
  readonly maxAuthAttempts?: number;
  /** Time a connection may take to authenticate. */
  readonly preAuthTimeoutMs?: number;
  /** Told of every receive-pack session with the bytes it received (metrics). */
  readonly onPush?: (bytes: number) => void;
  /** Whether a user still holds a role on an app (asked every second while a stream such as `logs -f` flows). */
  readonly stillHolds?: (user: User, app: string, need: AppRole) => Promise<boolean>;
  /** Interactive command sessions (`run`): the only ones that may get a pty. */
  readonly interactive?: InteractiveSessions;
}

export interface SshTransport {
  start(): Promise<number>;
  stop(): Promise<void>;
  activeSessions(): number;
}

/** The key type named inside an SSH wire-format public key blob. */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const len = blob.readUInt32BE(0);
  if (len > 64 || 4 + len > blob.length) return undefined;
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** True only when `signature` over `data` verifies with the public key `blob`. */
export function verifySignature(blob: Buffer, data: Buffer, signature: Buffer, hashAlgo: string | undefined): boolean {
  const type = blobType(blob);
  if (!type) return false;
  // RSA keys must sign with SHA-2 (rsa-sha2-256/512), never SHA-1.
  if (type === 'ssh-rsa' && hashAlgo !== 'sha256' && hashAlgo !== 'sha512') return false;
  const key = ssh2.utils.parseKey(`${type} ${blob.toString('base64')}`);
  if (key instanceof Error || Array.isArray(key)) return false;
  // verify() returns an Error object (truthy) on failure, whatever its type says: only `true` counts.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-boolean-literal-compare
  return key.verify(data, signature, hashAlgo) === true;
}

export function createSshTransport(o: SshTransportOptions): SshTransport {
  const log = o.logger.child({ component: 'ssh' });
  const maxAttempts = o.maxAuthAttempts ?? 6;
  const preAuthMs = o.preAuthTimeoutMs ?? 20_000;
  const clients = new Set<ssh2.Connection>();
  let sessions = 0;

  const runCommand = async (actor: User, keyId: number, command: string, channel: ssh2.ServerChannel, finish: (code: number) => void): Promise<void> => {
    let words: string[];
    try {
      words = splitCommand(command);
    } catch (err) {
      channel.stderr.write(`solum: ${publicError(err).message}\n`);
      finish(2);
      return;
    }
    const readStdin = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const chunks: Buffer[] = [];
        let size = 0;
        channel.on('data', (c: Buffer) => {
          size += c.length;
          if (size > 64 * 1024) reject(new Error('standard input too large'));
          else chunks.push(c);
        });
        channel.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
      });
    const result = await o.commands.run(actor, words, readStdin, () => channel);
    log.info({ user: actor.name, command: words[0], code: result.code }, 'ssh command');
    if (result.stdout) channel.write(result.stdout);
    if (result.stderr) channel.stderr.write(result.stderr);
    const stream = result.stream;
    if (stream) {
      channel.on('close', () => stream.destroy());
      // A followed log flows only while the key stays registered and the caller keeps the role.
      const reads = result.reads;
      watchAccess(channel, async () => (await o.authenticator.isKeyStillValid(keyId)) && (!reads || !o.stillHolds || (await o.stillHolds(actor, reads.name, reads.need))), () => {
        stream.unpipe(channel);
        stream.destroy();
        channel.stderr.write('solum: access to this stream ended\n');
        finish(1);
      });
      stream.pipe(channel, { end: false });
      stream.on('end', () => { finish(0); });
      stream.on('error', (err) => {
        channel.stderr.write(`solum: ${publicError(err).message}\n`);
        finish(1);
      });
      return;
    }
    finish(result.code);
  };

  // Packs are zlib-compressed already: compressing them again (a client with `Compression yes`)
  // costs CPU on both ends and saves nothing, so only "none" is offered.
  const server = new ssh2.Server({ hostKeys: [o.hostKey], ident: 'Solum', algorithms: { compress: ['none'] } }, (client, info) => {
    clients.add(client);
    const peer = { ip: info.ip, port: info.port };
    let user: User | null = null;
    let keyId: number | null = null;
    let failures = 0;
    const preAuth = setTimeout(() => {
      log.info(peer, 'ssh connection closed: authentication timed out');
      client.end();
    }, preAuthMs);

    const refuse = (ctx: ssh2.AuthContext): void => {
      failures++;
      ctx.reject(['publickey']);
      if (failures >= maxAttempts) {
        log.info({ ...peer, failures }, 'ssh connection closed: too many failed authentication attempts');
        client.end();
      }
    };

    client.on('authentication', (ctx) => {
      if (ctx.method !== 'publickey') {
        refuse(ctx);
        return;
      }
      const blob = ctx.key.data;
      if (!ctx.signature || !ctx.blob) {
        // The unsigned probe: answer whether we would accept this key, bind nothing.
        o.authenticator.isKnownPublicKey(blob).then(
          (known) => { if (known) ctx.accept(); else refuse(ctx); },
          (err: unknown) => { log.error({ err }, 'key lookup failed'); refuse(ctx); },
        );
        return;
      }
      if (!verifySignature(blob, ctx.blob, ctx.signature, ctx.hashAlgo)) {
        refuse(ctx);
        return;
      }
      o.authenticator.userForPublicKey(blob).then(
        (found) => {
          if (!found) {
            refuse(ctx);
            return;
          }
          user = found.user;
          keyId = found.keyId;
          clearTimeout(preAuth);
          log.info({ ...peer, user: found.user.name, keyId: found.keyId }, 'ssh user authenticated');
          ctx.accept();
        },
        (err: unknown) => { log.error({ err }, 'key lookup failed'); refuse(ctx); },
      );
    });

    client.on('ready', () => {
      client.on('session', (acceptSession) => {
        const session = acceptSession();
        let gitProtocol: string | undefined;
        // accept/reject are undefined when the client wants no reply (OpenSSH's env requests),
        // whatever ssh2's types say.
        /* eslint-disable @typescript-eslint/no-unnecessary-condition */
        session.on('env', (accept, reject, env) => {
          if (env.key === 'GIT_PROTOCOL' && acceptedGitProtocol(env.val) !== undefined) {
            gitProtocol = env.val;
            accept?.();
          } else reject?.();
        });
        // A pty is answered once the command is known (replies go in order): accepted for an
        // interactive session only, refused for everything else, as before. OpenSSH sends its
        // exec right behind the pty request; a client that waits for the answer first (ssh2's
        // shell()) is refused after a moment instead of waiting for ever.
        let pty: { info: PtyRequest; accept: (() => void) | undefined; reject: (() => void) | undefined; timer: NodeJS.Timeout } | undefined;
        const refusePty = (): void => {
          if (!pty) return;
          clearTimeout(pty.timer);
          const { reject } = pty;
          pty = undefined;
          // The channel may be gone by then (a client that gave up): nothing to answer.
          try {
            reject?.();
          } catch {
            /* closed */
          }
        };
        const resized = new Set<(cols: number, rows: number) => void>();
        if (o.interactive) {
          session.on('pty', (accept, reject, info) => {
            refusePty();
            pty = { info: { term: info.term, cols: info.cols, rows: info.rows }, accept, reject, timer: setTimeout(refusePty, PTY_ANSWER_MS).unref() };
          });
          session.on('window-change', (accept, _reject, info) => {
            accept?.();
            for (const r of resized) r(info.cols, info.rows);
          });
        }
        /* eslint-enable @typescript-eslint/no-unnecessary-condition */
        for (const ev of [...(o.interactive ? [] : ['pty' as const]), 'shell', 'subsystem', 'x11', 'auth-agent'] as const) {
          session.on(ev as 'pty', (_accept: unknown, reject?: () => void) => {
            refusePty();
            log.info({ ...peer, request: ev }, 'ssh request refused');
            reject?.();
          });
        }
        session.on('exec', (accept, _reject, execInfo) => {
          const interactive = o.interactive?.wants(execInfo.command) === true ? o.interactive : undefined;
          const granted = interactive && pty ? pty.info : undefined;
          if (granted && pty) {
            clearTimeout(pty.timer);
            pty.accept?.();
          } else refusePty();
          pty = undefined;
          const channel = accept();
          sessions++;
          let finished = false;
          const finish = (code: number): void => {
            if (finished) return;
            finished = true;
            sessions--;
            channel.exit(code);
            channel.end();
          };
          const command = execInfo.command;
          void (async () => {
            // A key removed while this connection is open ends its access at the next command.
            if (!user || keyId === null || !(await o.authenticator.isKeyStillValid(keyId))) {
              channel.stderr.write('solum: your key is no longer registered\n');
              finish(1);
              client.end();
              return;
            }
            if (interactive) {
              const io = { input: channel, output: channel, errors: channel.stderr, pty: granted, onResize: (r: (cols: number, rows: number) => void) => resized.add(r), onClose: (f: () => void) => channel.on('close', f) };
              finish(await interactive.run(user, command, io).catch(() => 1));
              return;
            }
            if (!/^git[- ]/.test(command)) {
              await runCommand(user, keyId, command, channel, finish);
              return;
            }
            let exec;
            let op;
            try {
              exec = parseGitExec(command);
              op = await o.access.open(user, exec.app, exec.service, { withHook: true, gitProtocol });
            } catch (err) {
              const pub = publicError(err);
              if (pub.status >= 500) log.error({ err }, 'ssh exec failed');
              channel.stderr.write(`solum: ${pub.message}\n`);
              finish(pub.status === 500 ? 1 : 128);
              return;
            }
            let child: GitChild;
            try {
              child = await startGit([...op.configArgs, exec.service, op.repoPath], { env: op.env });
            } catch (err) {
              op.done();
              log.error({ err }, 'git failed to start');
              channel.stderr.write('solum: internal error\n');
              finish(1);
              return;
            }
            let received = 0;
            channel.on('data', (c: Buffer) => (received += c.length));
            channel.pipe(child.stdin);
            // git writes its pack in sideband packets of a few KiB: merged, they fill SSH packets.
            const out = child.stdout.pipe(coalesce(WRITE_BATCH));
            out.pipe(channel, { end: false });
            const drained = streamFinished(out).catch(() => undefined);
            child.stderr.pipe(channel.stderr, { end: false });
            channel.on('close', () => {
              if (child.exitCode === null) child.kill();
              // A closed channel never completes a write: let git's output run dry instead, so
              // git's streams end and the session is accounted for.
              out.unpipe(channel);
              out.resume();
              child.stderr.unpipe(channel.stderr);
              child.stderr.resume();
            });
            child.on('close', (code) => {
              // The exit status goes after the last of git's output, which may still be on its way.
              void drained.then(() => {
                op.done();
                if (exec.service === 'receive-pack') o.onPush?.(received);
                log.info({ ...peer, user: user?.name, app: op.appName, service: exec.service, code }, 'ssh git command ended');
                finish(code ?? 1);
              });
            });
          })();
        });
      });
    });

    // No port forwarding of any kind.
    client.on('tcpip', (_accept, reject) => { reject(); });
    client.on('openssh.streamlocal', (_accept, reject) => { reject(); });
    client.on('request', (_accept, reject) => { reject?.(); });
    client.on('error', (err) => { log.debug({ err, ...peer }, 'ssh connection error'); });
    client.on('close', () => {
      clearTimeout(preAuth);
      clients.delete(client);
    });
  });

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(o.port, o.bind, () => { resolve(); });
      });
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      for (const c of clients) c.end();
      await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
    activeSessions: () => sessions,
  };
}
