// Deploy notifications' payloads, signatures, event lists and retry schedule.
import { createHmac } from 'node:crypto';
import test from 'ava';
import { parseEventList, payloadOf, retryDelayMs, signatureOf } from '../../../src/notifications/payloads.js';
import { errorCode } from '../../support/samples.js';

const facts = { event: 'build.failed' as const, app: 'hello', occurredAt: new Date('2026-12-02T10:00:00Z'), build: { id: 9, number: 3, status: 'failed', commit: 'c'.repeat(40), url: 'http://h/v1/builds/9' } };

test('the JSON payload names the event, the app and the build; Slack gets a sentence with a link', (t) => {
  t.deepEqual(JSON.parse(payloadOf(facts, 'json')), { event: 'build.failed', app: 'hello', occurredAt: '2026-12-02T10:00:00.000Z', summary: 'hello: build #3 failed', build: facts.build, release: null, pipeline: null });
  t.deepEqual(JSON.parse(payloadOf(facts, 'slack')), { text: 'hello: build #3 failed <http://h/v1/builds/9>' });
  const live = { event: 'release.live' as const, app: 'hello', occurredAt: facts.occurredAt, release: { version: 4, status: 'active', url: 'http://hello.localhost:8080' } };
  t.deepEqual(JSON.parse(payloadOf(live, 'slack')), { text: 'hello: v4 is live <http://hello.localhost:8080>' });
});

test('the signature is HMAC-SHA256 of the exact body, hex, prefixed sha256=', (t) => {
  const body = payloadOf(facts, 'json');
  t.is(signatureOf('s3cret', body), `sha256=${createHmac('sha256', 's3cret').update(body).digest('hex')}`);
  t.not(signatureOf('s3cret', `${body} `), signatureOf('s3cret', body));
});

test('event lists: nothing or * is every event; unknown names are refused', (t) => {
  t.deepEqual(parseEventList(undefined), ['*']);
  t.deepEqual(parseEventList('build.failed, release.live,build.failed'), ['build.failed', 'release.live']);
  t.deepEqual(parseEventList(['*', 'build.failed']), ['*']);
  t.is(errorCode(() => parseEventList('build.exploded')), 'bad_request');
});

test('retries double from the base, at most an hour apart', (t) => {
  t.deepEqual([1, 2, 3, 4].map((n) => retryDelayMs(n, 1000)), [1000, 2000, 4000, 8000]);
  t.is(retryDelayMs(30, 1000), 3_600_000);
});

test('preview events: subscribable by name, their payload carries the preview and its URL', (t) => {
  t.deepEqual(parseEventList('preview.up,preview.down'), ['preview.up', 'preview.down']);
  const facts = { event: 'preview.up' as const, app: 'shop', occurredAt: new Date('2026-01-01T00:00:00Z'), preview: { name: 'preview-x', branch: 'preview/x', url: 'http://shop-preview-x.example/' } };
  const json = JSON.parse(payloadOf(facts, 'json')) as { event: string; summary: string; preview: { url: string } };
  t.is(json.event, 'preview.up');
  t.is(json.summary, 'shop: preview preview-x (preview/x) is up');
  t.is(json.preview.url, 'http://shop-preview-x.example/');
  t.regex(payloadOf({ ...facts, event: 'preview.down' }, 'slack'), /torn down <http:\/\/shop-preview-x\.example\/>/);
});
