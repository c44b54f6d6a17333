import { createHash } from 'node:crypto';
import {
  addSignature,
  auditOrigin,
  generateSigningKey,
  NoteError,
  openNote,
  parseSigningKey,
  parseVerifierKey,
  signCheckpoint,
  signingKeyFromSeed,
  signNote,
  verifyNote,
  vkeyOf,
} from './note';

const seed = (label: string): Buffer => createHash('sha256').update(label).digest();
const keyA = signingKeyFromSeed('yoke-audit-a', seed('key a'));
const keyB = signingKeyFromSeed('yoke-audit-b', seed('key b'));
const checkpoint = {
  origin: auditOrigin('5b0a3c9e-1f2d-4c1b-9a55-0e6f4b7a2d10'),
  size: 1234,
  root: createHash('sha256').update('root').digest(),
  time: new Date('2026-01-02T03:04:05.678Z'),
};

const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return e instanceof NoteError ? e.code : `not a NoteError: ${String(e)}`;
  }
};

describe('signed notes (C2SP signed-note, Ed25519)', () => {
  // The published example of golang.org/x/mod/sumdb/note, the reference implementation of the format.
  const goSkey = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
  const goVkey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
  const goText =
    "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
  const goNote = `${goText}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

  it('reads, signs and verifies exactly like the reference implementation', () => {
    const key = parseSigningKey(goSkey);
    expect(key.skey).toBe(goSkey);
    expect(vkeyOf(key)).toBe(goVkey);
    expect(signNote(goText, key)).toBe(goNote);
    expect(verifyNote(goNote, [goVkey])).toEqual({ body: goText, keyName: 'PeterNeumann', keyHash: key.keyHash });
  });

  it('round-trips keys through their strings', () => {
    const fresh = generateSigningKey('fresh-key');
    expect(parseSigningKey(fresh.skey).vkey).toBe(fresh.vkey);
    expect(parseVerifierKey(fresh.vkey).publicKey).toEqual(fresh.publicKey);
    expect(keyA.skey).toMatch(/^PRIVATE\+KEY\+yoke-audit-a\+[0-9a-f]{8}\+A[Q-Za-f]/);
    expect(keyA.vkey).toMatch(/^yoke-audit-a\+[0-9a-f]{8}\+A[Q-Za-f]/);
    expect(code(() => parseVerifierKey(keyA.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+')))).toBe('malformed');
    expect(code(() => parseVerifierKey('no plus signs'))).toBe('malformed');
    expect(code(() => parseSigningKey(keyA.vkey))).toBe('malformed');
    expect(code(() => generateSigningKey('has space'))).toBe('malformed');
  });

  it('signs a checkpoint in the tlog-checkpoint layout and opens it', () => {
    const note = signCheckpoint(checkpoint, keyA);
    const [body, sig] = note.split('\n\n');
    expect(body.split('\n')).toEqual([
      checkpoint.origin,
      '1234',
      checkpoint.root.toString('base64'),
      'time 2026-01-02T03:04:05.678Z',
    ]);
    expect(sig).toMatch(/^\u2014 yoke-audit-a [A-Za-z0-9+/]+=*\n$/);
    expect(Buffer.from(sig.split(' ')[2], 'base64')).toHaveLength(4 + 64);
    expect(openNote(note, [keyA.vkey])).toEqual({
      origin: checkpoint.origin,
      size: 1234,
      root: checkpoint.root,
      time: '2026-01-02T03:04:05.678Z',
      keyName: 'yoke-audit-a',
      keyHash: keyA.keyHash,
    });
  });

  it('refuses a note with one byte flipped in its body or its signature (bad_signature)', () => {
    const note = signCheckpoint(checkpoint, keyA);
    const body = note.slice(0, note.indexOf('\n\n'));
    for (let i = 0; i < body.length; i++) {
      if (body[i] === '\n') continue;
      const flipped = `${note.slice(0, i)}${String.fromCharCode(body.charCodeAt(i) ^ 1)}${note.slice(i + 1)}`;
      expect(code(() => verifyNote(flipped, [keyA.vkey]))).toBe('bad_signature');
    }
    const line = note.slice(note.indexOf('\u2014'));
    const raw = Buffer.from(line.trim().split(' ')[2], 'base64');
    for (const at of [4, 20, 67]) {
      const bad = Buffer.from(raw);
      bad[at] ^= 0x01;
      const forged = note.replace(raw.toString('base64'), bad.toString('base64'));
      expect(code(() => openNote(forged, [keyA.vkey]))).toBe('bad_signature');
    }
  });

  it('refuses a note signed by another key (unknown_key) and accepts one of several signatures', () => {
    const byB = signCheckpoint(checkpoint, keyB);
    expect(code(() => openNote(byB, [keyA.vkey]))).toBe('unknown_key');
    // Same name, other key: the key hash tells them apart.
    const impostor = signingKeyFromSeed('yoke-audit-a', seed('impostor'));
    expect(code(() => openNote(signCheckpoint(checkpoint, impostor), [keyA.vkey]))).toBe('unknown_key');
    const both = addSignature(byB, keyA);
    expect(openNote(both, [keyA.vkey]).keyName).toBe('yoke-audit-a');
    expect(openNote(both, [keyB.vkey, keyA.vkey]).keyName).toBe('yoke-audit-b');
    expect(code(() => openNote(both, []))).toBe('unknown_key');
  });

  it('refuses malformed notes and checkpoints', () => {
    const note = signCheckpoint(checkpoint, keyA);
    expect(code(() => openNote(note.replace('\n\n', '\n'), [keyA.vkey]))).toBe('malformed');
    expect(code(() => openNote(note.slice(0, -1), [keyA.vkey]))).toBe('malformed');
    expect(code(() => openNote(note.replace('\u2014', '-'), [keyA.vkey]))).toBe('malformed');
    const sign = (body: string): string => signNote(body, keyA);
    const root = checkpoint.root.toString('base64');
    expect(code(() => openNote(sign(`o\n12\n${root}\n`), [keyA.vkey]))).toBe('malformed'); // no time
    expect(code(() => openNote(sign(`o\n012\n${root}\ntime 2026-01-02T03:04:05.678Z\n`), [keyA.vkey]))).toBe(
      'malformed',
    );
    expect(code(() => openNote(sign(`o\n12\nAAAA\ntime 2026-01-02T03:04:05.678Z\n`), [keyA.vkey]))).toBe('malformed');
    expect(code(() => openNote(sign(`o\n12\n${root}\ntime 2026-01-02T03:04:05Z\n`), [keyA.vkey]))).toBe('malformed');
    expect(openNote(sign(`o\n0\n${root}\nother ext\ntime 2026-01-02T03:04:05.678Z\n`), [keyA.vkey]).size).toBe(0);
  });
});
