// The note Solum writes on a built commit: one trailer-style line per fact.
import test from 'ava';
import { noteText } from '../../../src/git/build-notes.js';

const build = { number: 7, status: 'succeeded' as const, commit: 'a'.repeat(40), duId: 'sha256:abc', error: null };

test('a released build: number, status, URL, DU and release', (t) => {
  t.is(noteText({ build, buildUrl: 'http://h/v1/builds/9', release: { version: 3, url: 'http://app.localhost:8080' } }), 'Solum-Build: #7 succeeded\nSolum-Build-URL: http://h/v1/builds/9\nSolum-DU: sha256:abc\nSolum-Release: v3 http://app.localhost:8080\n');
});

test('a failed build: its error on one line, no DU, no release', (t) => {
  const text = noteText({ build: { ...build, status: 'failed', duId: null, error: 'build.sh exited\n  with 3' }, buildUrl: 'http://h/v1/builds/9' });
  t.is(text, 'Solum-Build: #7 failed\nSolum-Build-URL: http://h/v1/builds/9\nSolum-Error: build.sh exited with 3\n');
});
