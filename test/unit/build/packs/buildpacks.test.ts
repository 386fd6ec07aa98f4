// Heroku buildpacks: bin/release output and process types.
import test from 'ava';
import { mergeProcessTypes, parseBuildpackRelease } from '../../../../src/build/packs/buildpacks.js';

test('bin/release YAML: default_process_types read; empty output is none; bad shapes are clear errors', (t) => {
  const yaml = '---\naddons: []\nconfig_vars:\n  A: b\ndefault_process_types:\n  web: ./bin/serve --port $PORT\n  worker: ./bin/work\n';
  t.deepEqual([...parseBuildpackRelease(yaml)], [['web', './bin/serve --port $PORT'], ['worker', './bin/work']]);
  t.is(parseBuildpackRelease('').size, 0);
  t.is(parseBuildpackRelease('---\naddons: []\n').size, 0);
  t.is(parseBuildpackRelease('default_process_types:\n').size, 0);
  t.throws(() => parseBuildpackRelease('default_process_types: [web]\n'), { message: /must be a mapping/ });
  t.throws(() => parseBuildpackRelease('default_process_types:\n  web: 3\n'), { message: /non-empty string/ });
  t.throws(() => parseBuildpackRelease('default_process_types:\n  "we b": x\n'), { message: /invalid process type/ });
  t.throws(() => parseBuildpackRelease('- a\n'), { message: /YAML mapping/ });
  t.throws(() => parseBuildpackRelease('default_process_types: {web: "x"\n'), { message: /invalid YAML/ });
});

test('process types: the last buildpack naming any wins whole; the Procfile overrides per type', (t) => {
  const first = new Map([['web', 'first-web'], ['clock', 'first-clock']]);
  const second = new Map([['web', 'second-web']]);
  t.deepEqual([...mergeProcessTypes([first, second, new Map()], new Map())], [['web', 'second-web']]);
  t.deepEqual([...mergeProcessTypes([first, second], new Map([['web', 'procfile-web'], ['worker', 'w']]))], [['web', 'procfile-web'], ['worker', 'w']]);
  t.deepEqual([...mergeProcessTypes([], new Map())], []);
});
