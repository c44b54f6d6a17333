import type { AuthorityKeyIdentifierExtension, Extension, Name, X509Certificate } from '@peculiar/x509';
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * A per-runner certificate authority for TLS interception: ECDSA P-256 keys held as node:crypto key objects,
 * certificates encoded and signed by @peculiar/x509 over Node's WebCrypto.
 */

// @peculiar/x509 and its ASN.1 schemas (~210 modules, ~16 MB) load with the first CA, made or loaded when a sandboxed
// session first needs its egress proxy, not when the runner starts. It registers its algorithms through tsyringe,
// which needs the Reflect metadata API before it loads.
let x509Module: typeof import('@peculiar/x509') | undefined;
const x509 = (): typeof import('@peculiar/x509') => {
  /* eslint-disable @typescript-eslint/no-require-imports */
  if (!x509Module) {
    require('reflect-metadata');
    x509Module = require('@peculiar/x509') as typeof import('@peculiar/x509');
  }
  /* eslint-enable @typescript-eslint/no-require-imports */
  return x509Module;
};

const crypto = webcrypto;
type CryptoKey = webcrypto.CryptoKey;
const EC_P256 = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING = { name: 'ECDSA', hash: 'SHA-256' };
const HOUR_MS = 3600_000;
const DAY_MS = 86400_000;

const ecKey = (): { privateKey: KeyObject; publicKey: KeyObject } =>
  generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
const spkiOf = (key: KeyObject): Buffer => key.export({ type: 'spki', format: 'der' });
const pkcs8Pem = (key: KeyObject): string => key.export({ type: 'pkcs8', format: 'pem' }).toString();

const distinguishedName = (cn: string): Name =>
  new (x509().Name)([{ O: [{ utf8String: 'Yoke Omnibox' }] }, { CN: [{ utf8String: cn }] }]);

interface CertSpec {
  subject: Name;
  subjectSpki: Buffer;
  issuer: Name;
  signingKey: CryptoKey;
  days: number;
  extensions: Extension[];
}

async function issue(spec: CertSpec): Promise<X509Certificate> {
  const { SubjectKeyIdentifierExtension, X509CertificateGenerator } = x509();
  const now = Date.now();
  return X509CertificateGenerator.create(
    {
      subject: spec.subject,
      issuer: spec.issuer,
      publicKey: spec.subjectSpki,
      signingKey: spec.signingKey,
      signingAlgorithm: SIGNING,
      notBefore: new Date(now - HOUR_MS),
      notAfter: new Date(now + spec.days * DAY_MS),
      extensions: [await SubjectKeyIdentifierExtension.create(spec.subjectSpki, false, crypto), ...spec.extensions],
    },
    crypto,
  );
}

const toPem = (cert: X509Certificate): string => `${cert.toString('pem')}\n`;

export interface LeafCertificate {
  cert: string;
  key: string;
}

/** The runner's CA: its certificate goes into every sandbox's trust store; leaf certificates are cached per host. */
export class CertificateAuthority {
  private readonly leafKey = ecKey();
  private readonly leaves = new Map<string, { leaf: Promise<LeafCertificate>; expires: number }>();
  private readonly cert: X509Certificate;
  private signer: Promise<CryptoKey> | null = null;

  private constructor(
    readonly certPem: string,
    private readonly key: KeyObject,
    private readonly leafDays: number,
  ) {
    this.cert = new (x509().X509Certificate)(certPem);
    const details = key.asymmetricKeyDetails;
    if (key.asymmetricKeyType !== 'ec' || details?.namedCurve !== 'prime256v1') {
      throw new Error('the CA key must be an ECDSA P-256 private key');
    }
    if (!spkiOf(createPublicKey(key)).equals(Buffer.from(this.cert.publicKey.rawData))) {
      throw new Error('the CA key does not match the CA certificate');
    }
  }

  /** A fresh CA (ECDSA P-256), valid `days` (default 365). */
  static async create(
    opts: { commonName?: string; days?: number; leafDays?: number } = {},
  ): Promise<CertificateAuthority> {
    const {
      AuthorityKeyIdentifierExtension,
      BasicConstraintsExtension,
      KeyUsageFlags,
      KeyUsagesExtension,
      SubjectKeyIdentifierExtension,
    } = x509();
    const { privateKey, publicKey } = ecKey();
    const name = distinguishedName(opts.commonName ?? 'Yoke Omnibox egress CA');
    const spki = spkiOf(publicKey);
    const ski = await SubjectKeyIdentifierExtension.create(spki, false, crypto);
    const cert = await issue({
      subject: name,
      subjectSpki: spki,
      issuer: name,
      signingKey: await importSigningKey(privateKey),
      days: opts.days ?? 365,
      extensions: [
        new BasicConstraintsExtension(true, 0, true),
        new KeyUsagesExtension(
          KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign,
          true,
        ),
        new AuthorityKeyIdentifierExtension(ski.keyId),
      ],
    });
    return new CertificateAuthority(toPem(cert), privateKey, opts.leafDays ?? 30);
  }

  /** Loads a CA kept by the runner (PEM certificate and PKCS#8 key). */
  static load(certPem: string, keyPem: string, leafDays = 30): CertificateAuthority {
    return new CertificateAuthority(certPem, createPrivateKey(keyPem), leafDays);
  }

  get keyPem(): string {
    return pkcs8Pem(this.key);
  }

  /** A certificate for `host` (DNS name or IP) signed by this CA; cached until a day before it expires. */
  leafFor(host: string): Promise<LeafCertificate> {
    const cached = this.leaves.get(host);
    if (cached && cached.expires > Date.now()) return cached.leaf;
    const leaf = this.issueLeaf(host);
    this.leaves.set(host, { leaf, expires: Date.now() + (this.leafDays - 1) * DAY_MS });
    leaf.catch(() => {
      if (this.leaves.get(host)?.leaf === leaf) this.leaves.delete(host);
    });
    return leaf;
  }

  private async issueLeaf(host: string): Promise<LeafCertificate> {
    const {
      BasicConstraintsExtension,
      ExtendedKeyUsage,
      ExtendedKeyUsageExtension,
      KeyUsageFlags,
      KeyUsagesExtension,
      SubjectAlternativeNameExtension,
    } = x509();
    const cert = await issue({
      subject: distinguishedName(host),
      subjectSpki: spkiOf(this.leafKey.publicKey),
      issuer: this.cert.subjectName,
      signingKey: await this.signingKey(),
      days: this.leafDays,
      extensions: [
        new BasicConstraintsExtension(false, undefined, true),
        new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
        await this.authorityKeyId(),
        new ExtendedKeyUsageExtension([ExtendedKeyUsage.serverAuth]),
        new SubjectAlternativeNameExtension([
          isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host.toLowerCase() },
        ]),
      ],
    });
    return { cert: toPem(cert), key: pkcs8Pem(this.leafKey.privateKey) };
  }

  /** The CA's own key identifier when its certificate carries one (a loaded CA keeps its own), else derived. */
  private async authorityKeyId(): Promise<AuthorityKeyIdentifierExtension> {
    const { AuthorityKeyIdentifierExtension, SubjectKeyIdentifierExtension } = x509();
    const ski = this.cert.getExtension(SubjectKeyIdentifierExtension);
    if (ski) return new AuthorityKeyIdentifierExtension(ski.keyId);
    return AuthorityKeyIdentifierExtension.create(this.cert.publicKey, false, crypto);
  }

  private signingKey(): Promise<CryptoKey> {
    this.signer ??= importSigningKey(this.key);
    return this.signer;
  }
}

function importSigningKey(key: KeyObject): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), EC_P256, false, ['sign']);
}
