// DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1): the signature is over the
// Pre-Authentication Encoding of the payload type and the payload bytes, never the JSON around
// them. Ed25519 keys through node:crypto. Pure (keys are passed in).
import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

/** PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, LEN the decimal byte length. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

export interface Envelope {
  readonly payloadType: string;
  /** base64 of the payload bytes. */
  readonly payload: string;
  readonly signatures: ReadonlyArray<{ readonly keyid?: string; readonly sig: string }>;
}

const envelopeSchema = z.object({
  payloadType: z.string(),
  payload: z.string(),
  signatures: z.array(z.object({ keyid: z.string().optional(), sig: z.string() })).min(1),
});

/** A key's ID as envelopes name it: the SHA-256 of its public key (SPKI DER), hex. Only a hint. */
export const keyIdOf = (key: KeyObject): string => createHash('sha256').update((key.type === 'public' ? key : createPublicKey(key)).export({ type: 'spki', format: 'der' })).digest('hex');

/** Standard or URL-safe base64, which verifiers must both accept; undefined when it is neither. */
export function decodeBase64(s: string): Buffer | undefined {
  if (!/^[A-Za-z0-9+/\-_]*={0,2}$/.test(s)) return undefined;
  return Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export function signEnvelope(payload: Buffer, privateKey: KeyObject, payloadType: string = IN_TOTO_PAYLOAD_TYPE): Envelope {
  const sig = sign(null, pae(payloadType, payload), privateKey);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: keyIdOf(privateKey), sig: sig.toString('base64') }] };
}

export type Verified = { readonly ok: true; readonly payload: Buffer } | { readonly ok: false; readonly reason: string };

/**
 * Checks an envelope against one trusted key: some signature must verify over the PAE of the
 * envelope's own payload type and payload, and that type must be the one expected.
 */
export function verifyEnvelope(raw: unknown, publicKey: KeyObject, expectedType: string = IN_TOTO_PAYLOAD_TYPE): Verified {
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) return { ok: false, reason: 'not a DSSE envelope' };
  const e = parsed.data;
  const payload = decodeBase64(e.payload);
  if (!payload) return { ok: false, reason: 'the payload is not base64' };
  const message = pae(e.payloadType, payload);
  const good = e.signatures.some((s) => {
    const sig = decodeBase64(s.sig);
    try {
      return sig !== undefined && verify(null, message, publicKey, sig);
    } catch {
      return false;
    }
  });
  if (!good) return { ok: false, reason: 'no signature verifies with the installation key' };
  if (e.payloadType !== expectedType) return { ok: false, reason: `payload type ${JSON.stringify(e.payloadType)} is not ${expectedType}` };
  return { ok: true, payload };
}
