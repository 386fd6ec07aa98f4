// SSH public keys: accepted types, fingerprints, refusals.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { parsePublicKey } from '../../../src/access/public-key.js';
import { AppError } from '../../../src/errors.js';

function keygen(args: string[]): { pub: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'solum-k-'));
  const file = path.join(dir, 'k');
  execFileSync('ssh-keygen', ['-q', '-N', '', '-C', 'c', '-f', file, ...args]);
  return { pub: fs.readFileSync(`${file}.pub`, 'utf8'), file };
}

test('public keys: accepted types, fingerprints exactly as ssh-keygen -lf prints them', (t) => {
  for (const args of [['-t', 'ed25519'], ['-t', 'ecdsa', '-b', '256'], ['-t', 'ecdsa', '-b', '384'], ['-t', 'ecdsa', '-b', '521'], ['-t', 'rsa', '-b', '2048']]) {
    const { pub, file } = keygen(args);
    const parsed = parsePublicKey(pub);
    const expected = execFileSync('ssh-keygen', ['-lf', `${file}.pub`]).toString().split(' ')[1] ?? '';
    t.is(parsed.fingerprint, expected, args.join(' '));
    t.is(parsed.algo, pub.split(' ')[0] ?? '');
  }
});

test('public keys: weak, malformed, optioned, private and multiple keys are refused clearly', (t) => {
  const invalid = (text: string): string => {
    const err = t.throws(() => parsePublicKey(text), { instanceOf: AppError });
    t.is(err.code, 'invalid_public_key');
    return err.message;
  };
  t.regex(invalid(keygen(['-t', 'rsa', '-b', '1024']).pub), /at least 2048 bits/);
  t.regex(invalid('ssh-dss AAAAB3NzaC1kc3MAAACBAP= x'), /DSA/);
  const ed = keygen(['-t', 'ed25519']);
  t.regex(invalid(`command="id" ${ed.pub}`), /options are not accepted/);
  t.regex(invalid(`${ed.pub}\n${keygen(['-t', 'ed25519']).pub}`), /exactly one/);
  invalid('ssh-ed25519 AAAAnotbase64!!');
  invalid('ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==');
  invalid('');
  invalid(fs.readFileSync(ed.file, 'utf8'));
  // The blob says rsa while the line says ed25519.
  const rsa = keygen(['-t', 'rsa', '-b', '2048']).pub.split(' ')[1];
  invalid(`ssh-ed25519 ${rsa ?? ''}`);
});
