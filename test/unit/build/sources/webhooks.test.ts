// What a verified GitHub pull_request delivery asks for: a build of its head, or (closed) its preview torn down.
import test from 'ava';
import { parseWebhookEvent } from '../../../../src/build/sources/webhooks.js';

const github = { 'x-github-event': 'pull_request' };
const sha = 'a'.repeat(40);

test('a pull request opened or synchronized builds its head; closed (merged or not) is a teardown of its preview; others are ignored', (t) => {
  t.deepEqual(parseWebhookEvent('github', github, { action: 'opened', number: 7, pull_request: { head: { sha } } }), { kind: 'build', ref: 'refs/pull/7/head', commit: sha, pullRequest: true });
  t.deepEqual(parseWebhookEvent('github', github, { action: 'closed', number: 7, pull_request: { merged: true } }), { kind: 'closed', ref: 'refs/pull/7/head' });
  t.deepEqual(parseWebhookEvent('gitea', { 'x-gitea-event': 'pull_request' }, { action: 'closed', pull_request: { number: 9 } }), { kind: 'closed', ref: 'refs/pull/9/head' });
  for (const number of [undefined, 0, -1, 1.5, '7']) t.is(parseWebhookEvent('github', github, { action: 'closed', number }).kind, 'ignore', String(number));
  t.is(parseWebhookEvent('github', github, { action: 'labeled', number: 7 }).kind, 'ignore');
});
