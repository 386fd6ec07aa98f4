// What an app's Dockerfile may build from, read with a real parser.
import test from 'ava';
import { checkDockerfile, imageAllowed, normalizeImage } from '../../../../src/build/runner/dockerfile-policy.js';

const rule = { allowed: ['solum/base:*', 'solum/lp-*:*'], app: 'mine' };

test('images: allowed patterns and the app’s own DUs; tags default to latest; IDs and digests never by name', (t) => {
  t.is(normalizeImage('solum/base'), 'solum/base:latest');
  t.is(normalizeImage('localhost:5000/x'), 'localhost:5000/x:latest');
  t.true(imageAllowed(rule, 'solum/base:bookworm'));
  t.true(imageAllowed(rule, 'solum/lp-node:latest'));
  t.true(imageAllowed(rule, 'solum/mine:3'));
  for (const bad of ['solum/other:1', 'solum/mine-2:1', 'debian:bookworm', 'solum/base@sha256:' + 'a'.repeat(64), 'sha256:' + 'b'.repeat(64), 'c'.repeat(12)]) t.false(imageAllowed(rule, bad), bad);
});

test("another app's DU in FROM, COPY --from or RUN --mount is refused with its line; stages are fine", (t) => {
  const r = checkDockerfile(['FROM solum/base:bookworm AS build', 'RUN make', 'FROM build', 'COPY --from=build /a /b', 'COPY --from=0 /a /c', 'COPY --from=solum/other:1 /app /x', 'RUN --mount=type=bind,from=solum/other:2,target=/m cat /m/x', 'FROM solum/other:3'].join('\n'), rule);
  t.deepEqual(r.refusals.map((x) => x.replace(/ \(allowed.*$/, '')), [
    'Dockerfile line 6: COPY --from= solum/other:1 is not an image this app may build from',
    'Dockerfile line 7: RUN --mount from= solum/other:2 is not an image this app may build from',
    'Dockerfile line 8: FROM solum/other:3 is not an image this app may build from',
  ]);
  t.deepEqual(r.images.map((i) => i.image), ['solum/base:bookworm', 'solum/other:1', 'solum/other:2', 'solum/other:3']);
});

test('build arguments resolve from their defaults; one without a value is refused; case and escapes do not hide an image', (t) => {
  t.deepEqual(checkDockerfile('ARG BASE=solum/base:bookworm\nFROM ${BASE}\n', rule).refusals, []);
  t.deepEqual(checkDockerfile('ARG X=other\nFROM solum/$X:1\n', rule).refusals.length, 1);
  t.regex(checkDockerfile('ARG BASE\nFROM $BASE\n', rule).refusals[0] ?? '', /build argument with no value/);
  t.is(checkDockerfile('from solum/other:1\n', rule).refusals.length, 1, 'keywords in any case');
  t.is(checkDockerfile('FROM \\\n  solum/other:1\n', rule).refusals.length, 1, 'a continued line');
  t.is(checkDockerfile('FROM scratch\n', rule).refusals.length, 0);
});

test('ADD of a URL (fetched by the daemon on the host network) and ONBUILD are refused; no FROM at all too', (t) => {
  t.regex(checkDockerfile('FROM solum/base:bookworm\nADD http://127.0.0.1:3000/v1/users /x\n', rule).refusals[0] ?? '', /line 2: ADD of a URL/);
  t.regex(checkDockerfile('FROM solum/base:bookworm\nADD git@host:r.git /x\n', rule).refusals[0] ?? '', /ADD of a URL/);
  t.deepEqual(checkDockerfile('FROM solum/base:bookworm\nADD local.tar /x\n', rule).refusals, []);
  t.regex(checkDockerfile('FROM solum/base:bookworm\nONBUILD COPY . /\n', rule).refusals[0] ?? '', /ONBUILD/);
  t.deepEqual(checkDockerfile('RUN true\n', rule).refusals, ['Dockerfile: no FROM line']);
});
