// SSH public-key signatures: an identity is bound only after a real signature.
import { randomBytes } from 'node:crypto';
import test from 'ava';
import ssh2 from 'ssh2';
import { verifySignature } from '../../../src/git/ssh-transport.js';

test('signatures: only a real signature by the offered key verifies', (t) => {
  // ssh2 now and then generates a key its own parser refuses (about 1 in 400): take readable ones.
  const readableEd25519 = () => {
    for (;;) {
      const pair = ssh2.utils.generateKeyPairSync('ed25519');
      const k = ssh2.utils.parseKey(pair.private);
      if (!(k instanceof Error) && !Array.isArray(k)) return pair;
    }
  };
  const mine = readableEd25519();
  const theirs = readableEd25519();
  const key = (pem: string) => {
    const k = ssh2.utils.parseKey(pem);
    if (k instanceof Error || Array.isArray(k)) throw new Error('bad key');
    return k;
  };
  const data = randomBytes(64);
  const mySig = key(mine.private).sign(data);
  const theirBlob = key(theirs.public).getPublicSSH();
  const myBlob = key(mine.public).getPublicSSH();
  t.true(verifySignature(myBlob, data, mySig, undefined));
  t.false(verifySignature(theirBlob, data, mySig, undefined), "another user's public key with my signature");
  t.false(verifySignature(myBlob, randomBytes(64), mySig, undefined), 'signature over other data');
  t.false(verifySignature(Buffer.from('garbage'), data, mySig, undefined));
  const rsa = ssh2.utils.generateKeyPairSync('rsa', { bits: 2048 });
  const rsaBlob = key(rsa.public).getPublicSSH();
  t.true(verifySignature(rsaBlob, data, key(rsa.private).sign(data, 'sha256'), 'sha256'));
  t.false(verifySignature(rsaBlob, data, key(rsa.private).sign(data, 'sha1'), 'sha1'), 'SHA-1 RSA signatures are refused');
});
