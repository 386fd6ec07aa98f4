// Tar tools used by the runner.
import test from 'ava';
import tar from 'tar-stream';
import { fileFromTar, retar, tarOf } from '../../../../src/build/runner/tar-tools.js';

test('tar tools: entries renamed under a new directory (parents first); one file read back', async (t) => {
  const src = await tarOf([{ name: 'solum/bin/build', content: '#!/bin/sh\n', mode: 0o755 }, { name: 'other/x', content: 'x' }]);
  const out = await retar(src, 'solum', 'solum/packs/app');
  const names: Array<[string, number | undefined]> = [];
  const extract = tar.extract();
  extract.on('entry', (h, s, next) => {
    names.push([h.name, h.mode]);
    s.on('end', next);
    s.resume();
  });
  const done = new Promise<void>((r) => extract.on('finish', () => { r(); }));
  extract.end(out);
  await done;
  t.deepEqual(names, [['solum/', 0o755], ['solum/packs/', 0o755], ['solum/packs/app/', 0o755], ['solum/packs/app/bin/build', 0o755]]);
  t.is(await fileFromTar(await tarOf([{ name: 'r.yml', content: 'web: x' }])), 'web: x');
});
