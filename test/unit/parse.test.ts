// The small parsers shared by server and CLI: positive integers, whole numbers, versions, KEY=VALUE; and text tables.
import test from 'ava';
import { parseAssignment, parseCanaryShare, parsePositiveInt, parseVersion, parseWholeNumber } from '../../src/parse.js';
import { textTable } from '../../src/text-table.js';

test('positive integers: digits only, no leading zero, bounded length', (t) => {
  t.is(parsePositiveInt('7'), 7);
  t.is(parsePositiveInt('1234567890'), 1_234_567_890);
  for (const bad of [undefined, '', '0', '07', '-1', '+1', '1.5', '1e3', ' 1', '12345678901', '0x10', '١']) t.is(parsePositiveInt(bad), undefined, String(bad));
  t.is(parsePositiveInt('123456789', 9), 123_456_789);
  t.is(parsePositiveInt('1234567890', 9), undefined);
});

test('whole numbers: 0 up to a maximum', (t) => {
  t.is(parseWholeNumber('0', 10), 0);
  t.is(parseWholeNumber('010', 10), 10);
  t.is(parseWholeNumber('11', 10), undefined);
  for (const bad of [undefined, '', '-1', '1.0', 'x', ' 1']) t.is(parseWholeNumber(bad, 100), undefined, String(bad));
});

test('release versions: v3 or 3', (t) => {
  t.is(parseVersion('v3'), 3);
  t.is(parseVersion('3'), 3);
  for (const bad of [undefined, '', 'v', 'v0', 'vv3', 'V3', '3v', 'v1234567890']) t.is(parseVersion(bad), undefined, String(bad));
});

test('KEY=VALUE: the value may hold = and be empty; a key is needed', (t) => {
  t.deepEqual(parseAssignment('A=1'), ['A', '1']);
  t.deepEqual(parseAssignment('URL=postgres://x/y?a=b'), ['URL', 'postgres://x/y?a=b']);
  t.deepEqual(parseAssignment('EMPTY='), ['EMPTY', '']);
  t.is(parseAssignment('=x'), undefined);
  t.is(parseAssignment('NOEQUALS'), undefined);
});

test('text tables: two spaces between columns, the last unpadded, colour codes not counted', (t) => {
  t.is(textTable([['NAME', 'ROLE'], ['bob', 'write'], ['alexandra', 'read']]), 'NAME       ROLE\nbob        write\nalexandra  read\n');
  t.is(textTable([['GREETING:', 'hi there'], ['URL:', '']]), 'GREETING:  hi there\nURL:\n');
  const bold = (s: string): string => `${String.fromCharCode(27)}[1m${s}${String.fromCharCode(27)}[22m`;
  t.is(textTable([[bold('A'), 'x'], ['bbb', 'y']]).replace(new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g'), ''), 'A    x\nbbb  y\n');
  t.is(textTable([]), '');
});

test('a canary share is a whole percent from 1 to 99 without a leading zero, in the CLI, over SSH and in a push option alike', (t) => {
  for (const [raw, n] of [['1', 1], ['25', 25], ['99', 99]] as const) t.is(parseCanaryShare(raw), n);
  for (const bad of [undefined, '', '0', '00', '05', '100', '-1', '2.5', '25%', ' 25', 'abc']) t.is(parseCanaryShare(bad), undefined, String(bad));
});
