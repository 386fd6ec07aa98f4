// The build log: lines, progress bars and colour codes.
import test from 'ava';
import { memoryLog } from '../../../support/samples.js';



test('build log: lines split across chunks, progress bars and colour codes cleaned', async (t) => {
  const { log, lines } = memoryLog();
  log.output('par');
  log.output('tial\nprogress 10%\rprogress 100%\n\u001b[32mgreen\u001b[0m\n');
  log.output('tail');
  await log.close();
  t.deepEqual(lines, ['partial', 'progress 100%', 'green', 'tail']);
});
