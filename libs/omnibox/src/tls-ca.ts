import {
  createHash,
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from 'node:crypto';
import { isIP } from 'node:net';

/**
 * A per-runner certificate authority for TLS interception, built on node:crypto alone: ECDSA P-256 keys, and the
 * few DER structures an X.509 v3 certificate needs written by hand (no native deps, no forge).
 */

// ---- DER -------------------------------------------------------------------------------------------------------

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export const der = {
  tlv: (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), len(body.length), body]),
  seq: (...items: Buffer[]): Buffer => der.tlv(0x30, Buffer.concat(items)),
  set: (...items: Buffer[]): Buffer => der.tlv(0x31, Buffer.concat(items)),
  int: (value: Buffer | number): Buffer => {
    let b = typeof value === 'number' ? Buffer.from([value]) : value;
    let i = 0;
    while (i < b.length - 1 && b[i] === 0 && (b[i + 1] & 0x80) === 0) i++;
    b = b.subarray(i);
    if (b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return der.tlv(0x02, b);
  },
  bool: (v: boolean): Buffer => der.tlv(0x01, Buffer.from([v ? 0xff : 0])),
  oid: (dotted: string): Buffer => {
    const [a, b, ...rest] = dotted.split('.').map(Number);
    const out = [40 * a + b];
    for (const n of rest) {
      const chunk = [n & 0x7f];
      for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
      out.push(...chunk);
    }
    return der.tlv(0x06, Buffer.from(out));
  },
  utf8: (s: string): Buffer => der.tlv(0x0c, Buffer.from(s, 'utf8')),
  octets: (b: Buffer): Buffer => der.tlv(0x04, b),
  bits: (b: Buffer, unused = 0): Buffer => der.tlv(0x03, Buffer.concat([Buffer.from([unused]), b])),
  time: (d: Date): Buffer => {
    const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'; // YYYYMMDDHHMMSSZ
    return d.getUTCFullYear() < 2050 ? der.tlv(0x17, Buffer.from(iso.slice(2))) : der.tlv(0x18, Buffer.from(iso));
  },
  explicit: (n: number, body: Buffer): Buffer => der.tlv(0xa0 | n, body),
};

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  subjectKeyId: '2.5.29.14',
  authorityKeyId: '2.5.29.35',
  serverAuth: '1.3.6.1.5.5.7.3.1',
};

const name = (cn: string): Buffer =>
  der.seq(
    der.set(der.seq(der.oid(OID.organization), der.utf8('Yoke Omnibox'))),
    der.set(der.seq(der.oid(OID.commonName), der.utf8(cn))),
  );
const ext = (oid: string, critical: boolean, value: Buffer): Buffer =>
  der.seq(der.oid(oid), ...(critical ? [der.bool(true)] : []), der.octets(value));
const keyId = (spki: Buffer): Buffer => createHash('sha1').update(spki).digest();

/** keyUsage bits: digitalSignature (0), keyCertSign (5), cRLSign (6). */
function keyUsage(bits: number[]): Buffer {
  let byte = 0;
  for (const bit of bits) byte |= 0x80 >> bit;
  let unused = 0;
  while (unused < 7 && ((byte >> unused) & 1) === 0) unused++;
  return der.bits(Buffer.from([byte]), unused);
}

interface CertSpec {
  subject: string;
  subjectKey: KeyObject;
  issuer: string;
  issuerKey: KeyObject;
  issuerSpki: Buffer;
  isCa: boolean;
  hosts?: string[];
  days: number;
}

function certificate(spec: CertSpec): string {
  const spki = spec.subjectKey.export({ type: 'spki', format: 'der' });
  const serial = randomBytes(16);
  serial[0] &= 0x7f;
  const now = Date.now();
  const algorithm = der.seq(der.oid(OID.ecdsaWithSha256));
  const extensions = [
    ext(OID.basicConstraints, true, spec.isCa ? der.seq(der.bool(true), der.int(0)) : der.seq()),
    ext(OID.keyUsage, true, keyUsage(spec.isCa ? [0, 5, 6] : [0])),
    ext(OID.subjectKeyId, false, der.octets(keyId(spki))),
    ext(OID.authorityKeyId, false, der.seq(der.tlv(0x80, keyId(spec.issuerSpki)))),
  ];
  if (!spec.isCa) {
    extensions.push(ext(OID.extKeyUsage, false, der.seq(der.oid(OID.serverAuth))));
    const names = (spec.hosts ?? []).map((h) =>
      isIP(h) === 4
        ? der.tlv(0x87, Buffer.from(h.split('.').map(Number)))
        : der.tlv(0x82, Buffer.from(h.toLowerCase(), 'ascii')),
    );
    extensions.push(ext(OID.subjectAltName, false, der.seq(...names)));
  }
  const tbs = der.seq(
    der.explicit(0, der.int(2)),
    der.int(serial),
    algorithm,
    name(spec.issuer),
    der.seq(der.time(new Date(now - 3600_000)), der.time(new Date(now + spec.days * 86400_000))),
    name(spec.subject),
    spki,
    der.explicit(3, der.seq(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: spec.issuerKey, dsaEncoding: 'der' });
  const body = der.seq(tbs, algorithm, der.bits(signature));
  return `-----BEGIN CERTIFICATE-----\n${body.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`.replace(
    /\n\n/g,
    '\n',
  );
}

const ecKey = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' });

export interface LeafCertificate {
  cert: string;
  key: string;
}

/** The runner's CA: its certificate goes into every sandbox's trust store; leaf certificates are cached per host. */
export class CertificateAuthority {
  private readonly leafKey = ecKey();
  private readonly leaves = new Map<string, { leaf: LeafCertificate; expires: number }>();
  private readonly spki: Buffer;

  private constructor(
    readonly certPem: string,
    private readonly key: KeyObject,
    private readonly leafDays: number,
  ) {
    this.spki = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  }

  /** A fresh CA (ECDSA P-256), valid `days` (default 365). */
  static create(opts: { commonName?: string; days?: number; leafDays?: number } = {}): CertificateAuthority {
    const { privateKey, publicKey } = ecKey();
    const cn = opts.commonName ?? 'Yoke Omnibox egress CA';
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    const cert = certificate({
      subject: cn,
      subjectKey: publicKey,
      issuer: cn,
      issuerKey: privateKey,
      issuerSpki: spki,
      isCa: true,
      days: opts.days ?? 365,
    });
    return new CertificateAuthority(cert, privateKey, opts.leafDays ?? 30);
  }

  /** Loads a CA kept by the runner (PEM certificate and PKCS#8 key). */
  static load(certPem: string, keyPem: string, leafDays = 30): CertificateAuthority {
    return new CertificateAuthority(certPem, createPrivateKey(keyPem), leafDays);
  }

  get keyPem(): string {
    return this.key.export({ type: 'pkcs8', format: 'pem' }).toString();
  }

  /** A certificate for `host` (DNS name or IPv4) signed by this CA; cached until a day before it expires. */
  leafFor(host: string): LeafCertificate {
    const cached = this.leaves.get(host);
    if (cached && cached.expires > Date.now()) return cached.leaf;
    const cert = certificate({
      subject: host,
      subjectKey: this.leafKey.publicKey,
      issuer:
        new X509Certificate(this.certPem).subject
          .split('\n')
          .find((l) => l.startsWith('CN='))
          ?.slice(3) ?? '',
      issuerKey: this.key,
      issuerSpki: this.spki,
      isCa: false,
      hosts: [host],
      days: this.leafDays,
    });
    const leaf = { cert, key: this.leafKey.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    this.leaves.set(host, { leaf, expires: Date.now() + (this.leafDays - 1) * 86400_000 });
    return leaf;
  }
}
