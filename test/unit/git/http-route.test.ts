// Smart-HTTP git routes parsed before anything touches the disk.
import test from 'ava';
import { errorCode as code } from '../../support/samples.js';
import { parseGitHttpRoute } from '../../../src/git/http-route.js';


test('HTTP git routes: smart routes parsed, odd names refused, other paths passed on', (t) => {
  const q = (s: string): URLSearchParams => new URLSearchParams(s);
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/info/refs', q('service=git-upload-pack')), { kind: 'info-refs', app: 'hello', service: 'upload-pack' });
  t.deepEqual(parseGitHttpRoute('POST', '/hello/git-receive-pack', q('')), { kind: 'rpc', app: 'hello', service: 'receive-pack' });
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/HEAD', q('')), { kind: 'dumb', app: 'hello' });
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/objects/info/packs', q('')), { kind: 'dumb', app: 'hello' });
  t.deepEqual(parseGitHttpRoute('GET', '/hello.git/info/refs', q('')), { kind: 'dumb', app: 'hello' });
  t.is(parseGitHttpRoute('GET', '/v1/apps', q('')), undefined);
  t.is(parseGitHttpRoute('POST', '/hello.git/git-upload-archive', q('')), undefined);
  for (const bad of ['/%2e%2e.git/info/refs', '/..git/info/refs', '/Hello.git/info/refs', `/${'x'.repeat(300)}.git/info/refs`]) {
    t.is(code(() => parseGitHttpRoute('GET', bad, q('service=git-upload-pack'))), 'invalid_app_name', bad);
  }
});
