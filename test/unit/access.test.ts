// Access: the policy decisions, public key parsing, signature checks and per-push tokens.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import ssh2 from 'ssh2';
import { decide } from '../../src/access/policy.js';
import { parsePublicKey } from '../../src/access/public-key.js';
import type { App } from '../../src/db/app-store.js';
import type { User } from '../../src/db/user-store.js';
import { AppError } from '../../src/errors.js';
import { verifySignature } from '../../src/git/ssh-transport.js';
import { createPushSessions } from '../../src/hooks/push-sessions.js';
import type { AppName, UserName } from '../../src/names.js';

const user = (id: number, isAdmin = false): User => ({ id, name: `u${id}` as UserName, isAdmin, createdAt: new Date() });
const app = (ownerId: number, isPublic = false): App => ({ id: 9, name: 'hello' as AppName, ownerId, deployBranch: 'main', languagePack: null, public: isPublic, buildTimeoutSeconds: null, buildMemoryMb: null, buildpacks: [], languagePacks: [], createdAt: new Date() });
const settings = { createAppsOnPush: true };

test('policy: anonymous callers are unauthenticated everywhere', (t) => {
  t.like(decide(null, { kind: 'app', appName: 'hello', app: app(1), membership: null, need: 'read', createIfMissing: false }, settings), { allow: false, code: 'unauthenticated' });
  t.like(decide(null, { kind: 'signed-in' }, settings), { allow: false, code: 'unauthenticated' });
});

test('policy: owners and admins may do anything to an app; others nothing', (t) => {
  const req = (need: 'read' | 'write' | 'admin') => ({ kind: 'app' as const, appName: 'hello', app: app(1), membership: null, need, createIfMissing: false });
  for (const need of ['read', 'write', 'admin'] as const) {
    t.true(decide(user(1), req(need), settings).allow);
    t.true(decide(user(5, true), req(need), settings).allow);
    t.like(decide(user(2), req(need), settings), { allow: false, code: 'not_found' }, 'strangers learn nothing of the app');
  }
});

test('policy: collaborators get exactly their role', (t) => {
  const req = (need: 'read' | 'write' | 'admin', membership: 'read' | 'write' | 'admin') => ({ kind: 'app' as const, appName: 'hello', app: app(1), membership, need, createIfMissing: false });
  t.true(decide(user(2), req('read', 'read'), settings).allow);
  t.like(decide(user(2), req('write', 'read'), settings), { allow: false, code: 'forbidden' });
  t.true(decide(user(2), req('write', 'write'), settings).allow);
  t.like(decide(user(2), req('admin', 'write'), settings), { allow: false, code: 'forbidden' });
  t.true(decide(user(2), req('admin', 'admin'), settings).allow);
});

test('policy: a public app is readable anonymously on routes that honour the switch, never writable', (t) => {
  const req = (need: 'read' | 'write', publicRead: boolean) => ({ kind: 'app' as const, appName: 'hello', app: app(1, true), membership: null, need, createIfMissing: need === 'write', publicRead });
  t.true(decide(null, req('read', true), settings).allow);
  t.like(decide(null, req('read', false), settings), { allow: false, code: 'unauthenticated' });
  t.like(decide(null, req('write', true), settings), { allow: false, code: 'unauthenticated' });
  t.like(decide(user(2), req('write', true), settings), { allow: false, code: 'forbidden' });
});

test('policy: pushing to a new name creates the app only when the setting allows it', (t) => {
  const req = { kind: 'app' as const, appName: 'new', app: null, membership: null, need: 'write' as const, createIfMissing: true };
  t.deepEqual(decide(user(2), req, settings), { allow: true, create: true, role: 'admin' });
  t.like(decide(user(2), req, { createAppsOnPush: false }), { allow: false, code: 'forbidden' });
  t.deepEqual(decide(user(3, true), req, { createAppsOnPush: false }), { allow: true, create: true, role: 'admin' });
  t.like(decide(user(2), { ...req, need: 'read', createIfMissing: false }, settings), { allow: false, code: 'not_found' });
});

test('policy: users manage their own keys; admins anyone’s', (t) => {
  t.true(decide(user(1), { kind: 'user', userId: 1 }, settings).allow);
  t.true(decide(user(2, true), { kind: 'user', userId: 1 }, settings).allow);
  t.like(decide(user(2), { kind: 'user', userId: 1 }, settings), { allow: false, code: 'forbidden' });
});

function keygen(args: string[]): { pub: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solum-k-'));
  const file = path.join(dir, 'k');
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', 'c', '-f', file, ...args]);
  return { pub: fs.readFileSync(`${file}.pub`, 'utf8'), file };
}

test('public keys: accepted types, fingerprints exactly as ssh-keygen -lf prints them', (t) => {
  for (const args of [['-t', 'ed25519'], ['-t', 'ecdsa', '-b', '256'], ['-t', 'ecdsa', '-b', '384'], ['-t', 'ecdsa', '-b', '521'], ['-t', 'rsa', '-b', '2048']]) {
    const { pub, file } = keygen(args);
    const parsed = parsePublicKey(pub);
    const expected = execFileSync('ssh-keygen', ['-lf', `${file}.pub`]).toString().split(' ')[1] ?? '';
    t.is(parsed.fingerprint, expected, args.join(' '));
    t.is(parsed.algo, pub.split(' ')[0] ?? '');
  }
});

test('public keys: weak, malformed, optioned, private and multiple keys are refused clearly', (t) => {
  const invalid = (text: string): string => {
    const err = t.throws(() => parsePublicKey(text), { instanceOf: AppError });
    t.is(err.code, 'invalid_public_key');
    return err.message;
  };
  t.regex(invalid(keygen(['-t', 'rsa', '-b', '1024']).pub), /at least 2048 bits/);
  t.regex(invalid('ssh-dss AAAAB3NzaC1kc3MAAACBAP= x'), /DSA/);
  const ed = keygen(['-t', 'ed25519']);
  t.regex(invalid(`command="id" ${ed.pub}`), /options are not accepted/);
  t.regex(invalid(`${ed.pub}\n${keygen(['-t', 'ed25519']).pub}`), /exactly one/);
  invalid('ssh-ed25519 AAAAnotbase64!!');
  invalid('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==');
  invalid('');
  invalid(fs.readFileSync(ed.file, 'utf8'));
  // The blob says rsa while the line says ed25519.
  const rsa = keygen(['-t', 'rsa', '-b', '2048']).pub.split(' ')[1];
  invalid(`ssh-ed25519 ${rsa ?? ''}`);
});

test('signatures: only a real signature by the offered key verifies', (t) => {
  // ssh2 now and then generates a key its own parser refuses (about 1 in 400): take readable ones.
  const readableEd25519 = () => {
    for (;;) {
      const pair = ssh2.utils.generateKeyPairSync('ed25519');
      const k = ssh2.utils.parseKey(pair.private);
      if (!(k instanceof Error) && !Array.isArray(k)) return pair;
    }
  };
  const mine = readableEd25519();
  const theirs = readableEd25519();
  const key = (pem: string) => {
    const k = ssh2.utils.parseKey(pem);
    if (k instanceof Error || Array.isArray(k)) throw new Error('bad key');
    return k;
  };
  const data = randomBytes(64);
  const mySig = key(mine.private).sign(data);
  const theirBlob = key(theirs.public).getPublicSSH();
  const myBlob = key(mine.public).getPublicSSH();
  t.true(verifySignature(myBlob, data, mySig, undefined));
  t.false(verifySignature(theirBlob, data, mySig, undefined), "another user's public key with my signature");
  t.false(verifySignature(myBlob, randomBytes(64), mySig, undefined), 'signature over other data');
  t.false(verifySignature(Buffer.from('garbage'), data, mySig, undefined));
  const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
  const rsaBlob = key(rsa.public).getPublicSSH();
  t.true(verifySignature(rsaBlob, data, key(rsa.private).sign(data, 'sha256'), 'sha256'));
  t.false(verifySignature(rsaBlob, data, key(rsa.private).sign(data, 'sha1'), 'sha1'), 'SHA-1 RSA signatures are refused');
});

test('push tokens: single use, bound to their session, expiring', (t) => {
  let now = 1000;
  const sessions = createPushSessions({ ttlMs: 100, now: () => now });
  const s = { appId: 1, app: 'hello' as AppName, userId: 1, repoPath: '/r', role: 'write' as const };
  const a = sessions.open(s);
  t.like(sessions.take(a.token), s);
  t.is(sessions.take(a.token), undefined, 'second use');
  const b = sessions.open(s);
  t.is(sessions.take(`${b.token}x`), undefined);
  now += 101;
  t.is(sessions.take(b.token), undefined, 'expired');
  const c = sessions.open(s);
  c.end();
  t.is(sessions.take(c.token), undefined, 'ended with its push');
});
