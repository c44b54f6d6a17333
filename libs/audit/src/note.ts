import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { HASH_SIZE } from './merkle';

/**
 * Checkpoints as C2SP signed notes (c2sp.org/signed-note, c2sp.org/tlog-checkpoint) with Ed25519 keys:
 *
 *   yoke/audit/<orgId>            origin
 *   1234                          tree size
 *   <base64 root>                 RFC 6962 root hash
 *   time 2026-01-02T03:04:05.678Z extension: when it was signed (a heartbeat re-signs an unchanged size)
 *
 *   — <key name> <base64(key hash ‖ signature)>
 *
 * The signature covers the body bytes exactly (through its last newline). A note may carry several signatures
 * (key rotation); it opens when one of them is by a known key and verifies.
 */

export type NoteErrorCode = 'unknown_key' | 'bad_signature' | 'malformed';

export class NoteError extends Error {
  constructor(
    readonly code: NoteErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'NoteError';
  }
}

/** Signature type byte of Ed25519 in C2SP keys. */
const ED25519 = 0x01;
const ED25519_KEY_SIZE = 32;
const ED25519_SIGNATURE_SIZE = 64;
const KEY_HASH_SIZE = 4;
/** DER prefixes that turn a raw Ed25519 seed / public key into PKCS#8 / SPKI (RFC 8410). */
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const SIGNATURE_PREFIX = '\u2014 ';
const MAX_SIGNATURES = 100;

export interface SigningKey {
  readonly name: string;
  /** First 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key). */
  readonly keyHash: Buffer;
  readonly publicKey: Buffer;
  /** `PRIVATE+KEY+name+hex(keyhash)+base64(0x01 ‖ seed)`: the form config holds. */
  readonly skey: string;
  readonly vkey: string;
  readonly privateKey: KeyObject;
}

export interface VerifierKey {
  readonly name: string;
  readonly keyHash: Buffer;
  readonly publicKey: Buffer;
  /** `name+hex(keyhash)+base64(0x01 ‖ public key)`. */
  readonly vkey: string;
  readonly key: KeyObject;
}

export interface Checkpoint {
  /** `yoke/audit/<orgId>` */
  origin: string;
  size: number;
  root: Buffer;
  /** When it was signed; written as millisecond ISO-8601 UTC. */
  time: Date | string;
}

export interface OpenedCheckpoint {
  origin: string;
  size: number;
  root: Buffer;
  /** Millisecond ISO-8601 UTC. */
  time: string;
  /** The known key whose signature verified. */
  keyName: string;
  keyHash: Buffer;
}

export function auditOrigin(orgId: string): string {
  return `yoke/audit/${orgId}`;
}

function checkKeyName(name: string): void {
  // C2SP: non-empty, no Unicode spaces, no '+'.
  if (name.length === 0 || /[\s+]/u.test(name))
    throw new NoteError('malformed', `bad key name ${JSON.stringify(name)}`);
}

function keyHashOf(name: string, publicKey: Buffer): Buffer {
  const input = Buffer.concat([Buffer.from(`${name}\n`, 'utf8'), Buffer.from([ED25519]), publicKey]);
  return hash('sha256', input, 'buffer').subarray(0, KEY_HASH_SIZE);
}

/** The signing key of a 32-byte Ed25519 seed (fixed keys in tests and benches; `generateSigningKey` otherwise). */
export function signingKeyFromSeed(name: string, seed: Buffer): SigningKey {
  checkKeyName(name);
  if (seed.length !== ED25519_KEY_SIZE) throw new NoteError('malformed', 'an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const publicKey = Buffer.from(spki.subarray(SPKI_PREFIX.length));
  const keyHash = keyHashOf(name, publicKey);
  const keyData = (bytes: Buffer): string => Buffer.concat([Buffer.from([ED25519]), bytes]).toString('base64');
  return {
    name,
    keyHash,
    publicKey,
    skey: `PRIVATE+KEY+${name}+${keyHash.toString('hex')}+${keyData(seed)}`,
    vkey: `${name}+${keyHash.toString('hex')}+${keyData(publicKey)}`,
    privateKey,
  };
}

/** A new Ed25519 signing key named `name` (e.g. `yoke-audit-2026-01`). */
export function generateSigningKey(name: string): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return signingKeyFromSeed(name, Buffer.from(pkcs8.subarray(PKCS8_PREFIX.length)));
}

/** `<name>+<hex hash>+<base64 data>` with a 0x01 type byte and a key of `size` bytes. */
function splitKey(text: string, size: number, what: string): { name: string; keyHash: Buffer; data: Buffer } {
  // The key data is base64 and may itself contain '+': split at the first two only.
  const first = text.indexOf('+');
  const second = text.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw new NoteError('malformed', `${what}: expected name+hash+key`);
  const [name, hex, b64] = [text.slice(0, first), text.slice(first + 1, second), text.slice(second + 1)];
  checkKeyName(name);
  if (!/^[0-9a-f]{8}$/.test(hex)) throw new NoteError('malformed', `${what}: key hash must be 8 lowercase hex digits`);
  const raw = Buffer.from(b64, 'base64');
  if (raw.toString('base64') !== b64 || raw.length !== 1 + size || raw[0] !== ED25519) {
    throw new NoteError('malformed', `${what}: not a base64 Ed25519 key`);
  }
  return { name, keyHash: Buffer.from(hex, 'hex'), data: raw.subarray(1) };
}

/** Reads a `PRIVATE+KEY+…` string; refuses one whose key hash does not match its name and key. */
export function parseSigningKey(skey: string): SigningKey {
  if (!skey.startsWith('PRIVATE+KEY+')) throw new NoteError('malformed', 'signing key: must start with PRIVATE+KEY+');
  const { name, keyHash, data } = splitKey(skey.slice('PRIVATE+KEY+'.length), ED25519_KEY_SIZE, 'signing key');
  const key = signingKeyFromSeed(name, data);
  if (!key.keyHash.equals(keyHash)) throw new NoteError('malformed', 'signing key: key hash does not match');
  return key;
}

export function vkeyOf(key: SigningKey | VerifierKey): string {
  return key.vkey;
}

/** Reads a `name+hash+key` verifier key; refuses one whose key hash does not match its name and key. */
export function parseVerifierKey(vkey: string): VerifierKey {
  const { name, keyHash, data } = splitKey(vkey, ED25519_KEY_SIZE, 'verifier key');
  if (!keyHashOf(name, data).equals(keyHash)) throw new NoteError('malformed', 'verifier key: key hash does not match');
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, data]), format: 'der', type: 'spki' });
  return { name, keyHash, publicKey: data, vkey, key };
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function isoTime(time: Date | string): string {
  const date = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(date.getTime())) throw new RangeError(`bad checkpoint time ${String(time)}`);
  return date.toISOString();
}

/** The checkpoint body: origin, size, base64 root, `time` extension line; every line ends with \n. */
export function checkpointBody(cp: Checkpoint): string {
  if (cp.origin.length === 0 || /[\n\r]/.test(cp.origin)) throw new RangeError('bad checkpoint origin');
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) throw new RangeError(`bad checkpoint size ${cp.size}`);
  if (cp.root.length !== HASH_SIZE) throw new RangeError('a checkpoint root is 32 bytes');
  return `${cp.origin}\n${cp.size}\n${cp.root.toString('base64')}\ntime ${isoTime(cp.time)}\n`;
}

function signatureLine(body: string, key: SigningKey): string {
  const signature = sign(null, Buffer.from(body, 'utf8'), key.privateKey);
  return `${SIGNATURE_PREFIX}${key.name} ${Buffer.concat([key.keyHash, signature]).toString('base64')}\n`;
}

/** A signed note of `body` (non-empty lines, each ending with a newline). */
export function signNote(body: string, key: SigningKey): string {
  // eslint-disable-next-line no-control-regex
  if (!body.endsWith('\n') || body.includes('\n\n') || /[\u0000-\u0009\u000b-\u001f\u007f]/.test(body)) {
    throw new RangeError('a note body is non-empty lines, each ending with a newline, no control characters');
  }
  return `${body}\n${signatureLine(body, key)}`;
}

/** The whole signed note of a checkpoint. */
export function signCheckpoint(cp: Checkpoint, key: SigningKey): string {
  return signNote(checkpointBody(cp), key);
}

/** Adds `key`'s signature to a signed note (both keys sign during a rotation). The note is not checked. */
export function addSignature(note: string, key: SigningKey): string {
  const { body } = splitNote(note);
  return `${note}${signatureLine(body, key)}`;
}

interface NoteSignature {
  name: string;
  keyHash: Buffer;
  signature: Buffer;
}

function splitNote(note: string): { body: string; signatures: NoteSignature[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('malformed', 'note: no blank line before the signatures');
  const body = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f\u007f]/.test(body)) throw new NoteError('malformed', 'note: control characters');
  if (!block.endsWith('\n')) throw new NoteError('malformed', 'note: the signatures must end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError('malformed', 'note: too many signatures');
  const signatures = lines.map((line): NoteSignature => {
    if (!line.startsWith(SIGNATURE_PREFIX)) throw new NoteError('malformed', 'note: a signature line must start "— "');
    const rest = line.slice(SIGNATURE_PREFIX.length);
    const space = rest.lastIndexOf(' ');
    const name = rest.slice(0, space);
    const b64 = rest.slice(space + 1);
    const raw = Buffer.from(b64, 'base64');
    if (space <= 0 || raw.toString('base64') !== b64 || raw.length <= KEY_HASH_SIZE) {
      throw new NoteError('malformed', 'note: a signature line must be "— name base64"');
    }
    checkKeyName(name);
    return { name, keyHash: raw.subarray(0, KEY_HASH_SIZE), signature: raw.subarray(KEY_HASH_SIZE) };
  });
  return { body, signatures };
}

/**
 * Verifies a signed note against `keys` (vkey strings or parsed keys) and returns its body and the key that
 * verified. `unknown_key` when no signature is by a given key, `bad_signature` when those that are do not verify.
 */
export function verifyNote(
  note: string,
  keys: readonly (string | VerifierKey)[],
): { body: string; keyName: string; keyHash: Buffer } {
  const known = keys.map((k) => (typeof k === 'string' ? parseVerifierKey(k) : k));
  const { body, signatures } = splitNote(note);
  const data = Buffer.from(body, 'utf8');
  let matched = 0;
  for (const s of signatures) {
    for (const k of known) {
      if (k.name !== s.name || !k.keyHash.equals(s.keyHash)) continue;
      matched++;
      if (s.signature.length === ED25519_SIGNATURE_SIZE && verify(null, data, k.key, s.signature)) {
        return { body, keyName: k.name, keyHash: k.keyHash };
      }
    }
  }
  if (matched === 0) {
    const names = signatures.map((s) => `${s.name}+${s.keyHash.toString('hex')}`).join(', ');
    throw new NoteError('unknown_key', `signed by ${names}, none of them a known key`);
  }
  throw new NoteError('bad_signature', 'the signature does not verify: the note was changed after signing');
}

/** Reads a checkpoint body (after its signature verified). */
export function parseCheckpointBody(body: string): Checkpoint & { time: string } {
  const lines = body.slice(0, -1).split('\n');
  if (!body.endsWith('\n') || lines.length < 4) throw new NoteError('malformed', 'checkpoint: too few lines');
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (origin.length === 0) throw new NoteError('malformed', 'checkpoint: empty origin');
  if (!/^(0|[1-9]\d{0,15})$/.test(sizeText) || !Number.isSafeInteger(Number(sizeText))) {
    throw new NoteError('malformed', `checkpoint: bad size ${JSON.stringify(sizeText)}`);
  }
  const root = Buffer.from(rootText, 'base64');
  if (root.length !== HASH_SIZE || root.toString('base64') !== rootText) {
    throw new NoteError('malformed', 'checkpoint: the root is not a base64 SHA-256 hash');
  }
  if (extensions.some((l) => l.length === 0)) throw new NoteError('malformed', 'checkpoint: empty extension line');
  const times = extensions.filter((l) => l.startsWith('time '));
  const time = times.length === 1 ? times[0].slice('time '.length) : '';
  if (!ISO_MS.test(time) || new Date(time).toISOString() !== time) {
    throw new NoteError('malformed', 'checkpoint: needs one "time <ISO-8601 ms Z>" line');
  }
  return { origin, size: Number(sizeText), root, time };
}

/** Verifies a checkpoint note and reads it: throws `NoteError` (`unknown_key`, `bad_signature`, `malformed`). */
export function openNote(note: string, keys: readonly (string | VerifierKey)[]): OpenedCheckpoint {
  const { body, keyName, keyHash } = verifyNote(note, keys);
  return { ...parseCheckpointBody(body), keyName, keyHash };
}
