// Terminal controls in output shown to others: removed, text kept.
import test from 'ava';
import { printableLine } from '../../src/terminal-text.js';

test('escape sequences and control characters are removed; the text stays', (t) => {
  t.is(printableLine('\u001b[32mgreen\u001b[0m'), 'green');
  t.is(printableLine('a\u001b]0;owned title\u0007b'), 'ab', 'OSC window title, BEL-terminated');
  t.is(printableLine('x\u001b]52;c;ZXZpbA==\u001b\\y'), 'xy', 'OSC 52 clipboard write, ST-terminated');
  t.is(printableLine('\u001b]8;;https://evil.example/\u001b\\link\u001b]8;;\u001b\\'), 'link', 'OSC 8 hyperlink');
  t.is(printableLine('\u001bPq#0;2;0;0;0\u001b\\after'), 'after', 'DCS (sixel) dropped');
  t.is(printableLine('\u009b31mred'), 'red', '8-bit CSI');
  t.is(printableLine('a\u001bcb'), 'ab', 'a two-character escape (full reset)');
  t.is(printableLine('bell\u0007 back\bspace\u007f'), 'bell backspace');
  t.is(printableLine('tab\tkept'), 'tab\tkept');
  t.is(printableLine('progress 10%\rprogress 100%'), 'progress 100%');
  t.is(printableLine('\u001b]0;unterminated'), '', 'an unterminated OSC swallows the rest of the line, not later lines');
  t.is(printableLine('héllo wörld ✓'), 'héllo wörld ✓');
});
