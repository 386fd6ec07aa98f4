// DSSE: the Pre-Authentication Encoding and ed25519 envelopes, against the DSSE spec's example and
// its ed25519 test vectors (github.com/secure-systems-lab/dsse, protocol.md and testvectors/).
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import test from 'ava';
import { decodeBase64, IN_TOTO_PAYLOAD_TYPE, pae, signEnvelope, verifyEnvelope } from '../../../src/supply-chain/dsse.js';

/** An ed25519 key from its 32-byte seed (PKCS#8 DER: a fixed prefix, then the seed). */
const keyFromSeed = (hex: string) => createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(hex, 'hex')]), format: 'der', type: 'pkcs8' });

// Test key "A" of the DSSE vectors (RFC 8032's first ed25519 test key).
const A = keyFromSeed('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
const STATEMENT = Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}');

test('PAE is "DSSEv1 LEN(type) type LEN(body) body" (the spec example), lengths in bytes', (t) => {
  t.is(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  t.is(pae(IN_TOTO_PAYLOAD_TYPE, STATEMENT).toString('hex'), '445353457631203238206170706c69636174696f6e2f766e642e696e2d746f746f2b6a736f6e203433207b225f74797065223a2268747470733a2f2f696e2d746f746f2e696f2f53746174656d656e742f7631227d');
  t.is(pae('application/vnd.exämple+json', STATEMENT).subarray(0, 10).toString(), 'DSSEv1 29 ', 'the byte length, not the 28 characters');
  t.is(pae(IN_TOTO_PAYLOAD_TYPE, Buffer.alloc(0)).toString(), 'DSSEv1 28 application/vnd.in-toto+json 0 ', 'an empty body keeps its trailing space');
});

test('ed25519 envelopes match the DSSE test vector, and verify', (t) => {
  t.is(createPublicKey(A).export({ format: 'der', type: 'spki' }).subarray(-32).toString('hex'), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
  const e = signEnvelope(STATEMENT, A);
  t.is(e.payload, 'eyJfdHlwZSI6Imh0dHBzOi8vaW4tdG90by5pby9TdGF0ZW1lbnQvdjEifQ==');
  t.is(e.signatures[0]?.sig, '2WAfaHm5jluo0w+0rk8uVkluELJYWjSmU9x7EUzx+AyteDGJ4/nqyJXfmAUVFIAoQafWm7AxBZNw5M9ixNHiCA==');
  const v = verifyEnvelope(e, createPublicKey(A));
  t.true(v.ok);
  t.deepEqual(v.ok ? v.payload : undefined, STATEMENT);
});

test('URL-safe base64 is accepted; a swapped payload type, another key, a changed payload and junk are refused', (t) => {
  const pub = createPublicKey(A);
  t.true(verifyEnvelope({ payloadType: IN_TOTO_PAYLOAD_TYPE, payload: '-_-_Pj8=', signatures: [{ sig: 'P-_KHICeR7tI6S_YyejJTRtrXhcQyQ2LYPaL8h90KjC9qN8HU_svOQ6TuDOT1HIrsGW886DbWNWcCmX5twLrAw==' }] }, pub).ok);
  const e = signEnvelope(STATEMENT, A);
  t.like(verifyEnvelope({ ...e, payloadType: 'application/vnd.example.other+json' }, pub), { ok: false });
  t.like(verifyEnvelope(e, generateKeyPairSync('ed25519').publicKey), { ok: false, reason: 'no signature verifies with the installation key' });
  t.like(verifyEnvelope({ ...e, payload: Buffer.from('{"_type":"x"}').toString('base64') }, pub), { ok: false });
  t.like(verifyEnvelope({ payload: 'x' }, pub), { ok: false, reason: 'not a DSSE envelope' });
  t.like(verifyEnvelope({ ...e, payload: '%%%' }, pub), { ok: false, reason: 'the payload is not base64' });
  t.is(decodeBase64('a b'), undefined);
});
