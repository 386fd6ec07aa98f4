// Procfile parsing.
import test from 'ava';
import { parseProcfile } from '../../../../src/build/runner/procfile.js';

test('Procfile: process types and commands', (t) => {
  const p = parseProcfile('# comment\nweb: npm start -- --port $PORT\n\nworker:node worker.js\r\nbad line\n');
  t.deepEqual([...p], [
    ['web', 'npm start -- --port $PORT'],
    ['worker', 'node worker.js'],
  ]);
});
