// Which builds go live: a preview build goes to its preview (decision 0020), never to the app.
import test from 'ava';
import { goesLive, isPreviewBuild, overtaken, PREVIEW_SOURCE } from '../../../../src/build/queue/release-rules.js';
import { sampleApp, sampleBuild } from '../../../support/samples.js';

test('a preview build of another branch is released (to its preview); a plain push of that branch is not', (t) => {
  const preview = { ...sampleBuild, ref: 'refs/heads/preview/x', source: PREVIEW_SOURCE };
  t.true(isPreviewBuild(preview));
  t.true(goesLive(preview, sampleApp));
  t.false(isPreviewBuild({ ...preview, source: 'push' }));
  t.false(goesLive({ ...preview, source: 'push' }, sampleApp));
  t.true(goesLive({ ...sampleBuild, ref: 'refs/heads/main' }, sampleApp));
  t.false(goesLive({ ...sampleBuild, source: 'pull-request' }, sampleApp));
});

test('a preview build is never overtaken by a move of the deploy branch', (t) => {
  const preview = { ...sampleBuild, ref: 'refs/heads/preview/x', source: PREVIEW_SOURCE, baseCommit: 'a'.repeat(40) };
  t.is(overtaken(preview, 'main', 'b'.repeat(40)), undefined);
  t.is(overtaken({ ...preview, ref: 'refs/heads/main' }, 'main', 'b'.repeat(40)), 'b'.repeat(40));
});
