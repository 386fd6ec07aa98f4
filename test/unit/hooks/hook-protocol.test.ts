// The line protocol between the hook program and the server.
import test from 'ava';
import { decodeLine, encodeExit, encodeOutput } from '../../../src/hooks/hook-protocol.js';

test('hook protocol round-trips output lines and the exit code', (t) => {
  const wire = encodeOutput('one\ntwo') + encodeExit(3);
  t.deepEqual(wire.trimEnd().split('\n').map(decodeLine), [
    { kind: 'output', text: 'one' },
    { kind: 'output', text: 'two' },
    { kind: 'exit', code: 3 },
  ]);
  t.is(decodeLine('garbage'), undefined);
});
