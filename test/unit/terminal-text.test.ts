// Terminal controls in output shown to others: removed, text kept.
import test from 'ava';
import { maskUrlCredentials, printableLine } from '../../src/terminal-text.js';

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

test('credentials written into URLs are masked; the rest of the URL and ssh user names stay', (t) => {
  t.is(maskUrlCredentials('fetching https://alice:s3cret@git.example.com/r.git'), 'fetching https://alice:***@git.example.com/r.git');
  t.is(maskUrlCredentials('https://ghp_token123@github.com/o/r'), 'https://***@github.com/o/r', 'a token given as the user name');
  t.is(maskUrlCredentials('ssh://git@host.example/r.git'), 'ssh://git@host.example/r.git', 'an ssh user name is not a secret');
  t.is(maskUrlCredentials('ssh://git:pw@host.example/r.git'), 'ssh://git:***@host.example/r.git');
  t.is(maskUrlCredentials('git@github.com:o/r.git'), 'git@github.com:o/r.git');
  t.is(maskUrlCredentials('see http://example.com/a@b and mail me@example.com'), 'see http://example.com/a@b and mail me@example.com', 'an @ after the path is not user info');
  t.is(maskUrlCredentials('{"url":"http://u:p@h/x","b":"https://t@h"}'), '{"url":"http://u:***@h/x","b":"https://***@h"}', 'inside a JSON log line');
  t.is(printableLine('-----> Fetching buildpack 1/1: https://x:tok@h/bp.tgz'), '-----> Fetching buildpack 1/1: https://x:***@h/bp.tgz', 'and in every log line');
});
