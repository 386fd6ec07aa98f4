// The one access policy for git on both transports and the API.
import test from 'ava';
import { decide } from '../../../src/access/policy.js';
import type { App } from '../../../src/db/app-store.js';
import type { User } from '../../../src/db/user-store.js';
import type { AppName, UserName } from '../../../src/names.js';

const user = (id: number, isAdmin = false): User => ({ id, name: `u${id}` as UserName, isAdmin, createdAt: new Date() });

const app = (ownerId: number, isPublic = false): App => ({ id: 9, name: 'hello' as AppName, ownerId, deployBranch: 'main', languagePack: null, public: isPublic, buildTimeoutSeconds: null, buildMemoryMb: null, buildpacks: [], languagePacks: [], pullRequestBuilds: false, baseDir: null, watchPaths: [], createdAt: new Date() });

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
