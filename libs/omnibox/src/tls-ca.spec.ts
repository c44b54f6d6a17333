import { createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { CertificateAuthority } from './tls-ca';

const DAY_MS = 86400_000;
const daysFromNow = (date: string): number => (Date.parse(date) - Date.now()) / DAY_MS;

describe('CertificateAuthority', () => {
  let ca: CertificateAuthority;
  let caCert: X509Certificate;

  beforeAll(async () => {
    ca = await CertificateAuthority.create({ commonName: 'Test egress CA', days: 10, leafDays: 5 });
    caCert = new X509Certificate(ca.certPem);
  });

  it('creates a self-signed P-256 CA certificate with no server purpose', () => {
    expect(caCert.ca).toBe(true);
    expect(caCert.subject).toBe('O=Yoke Omnibox\nCN=Test egress CA');
    expect(caCert.issuer).toBe(caCert.subject);
    expect(caCert.verify(caCert.publicKey)).toBe(true);
    expect(caCert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(daysFromNow(caCert.validTo)).toBeCloseTo(10, 1);
    expect(daysFromNow(caCert.validFrom)).toBeLessThan(0);
    expect(caCert.toLegacyObject().ext_key_usage).toBeUndefined();
    expect(ca.certPem).toMatch(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\n$/);
  });

  it('issues a DNS leaf that chains to the CA and names only its host', async () => {
    const leaf = await ca.leafFor('API.Example.test');
    const cert = new X509Certificate(leaf.cert);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.ca).toBe(false);
    expect(cert.subjectAltName).toBe('DNS:api.example.test');
    expect(cert.checkHost('api.example.test')).toBe('api.example.test');
    expect(cert.checkHost('other.example.test')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth
    expect(cert.checkPrivateKey(createPrivateKey(leaf.key))).toBe(true);
    expect(daysFromNow(cert.validTo)).toBeCloseTo(5, 1);
  });

  it('puts IPv4 and IPv6 hosts in the IP address SAN', async () => {
    const v4 = new X509Certificate((await ca.leafFor('127.0.0.1')).cert);
    expect(v4.subjectAltName).toBe('IP Address:127.0.0.1');
    expect(v4.checkIP('127.0.0.1')).toBe('127.0.0.1');
    const v6 = new X509Certificate((await ca.leafFor('::1')).cert);
    expect(v6.checkIP('::1')).toBe('::1');
    expect(v6.verify(caCert.publicKey)).toBe(true);
  });

  it('signs each host once, concurrent requests included', async () => {
    const [a, b] = await Promise.all([ca.leafFor('cached.test'), ca.leafFor('cached.test')]);
    expect(a).toBe(b);
    expect(await ca.leafFor('cached.test')).toBe(a);
    expect((await ca.leafFor('other.test')).cert).not.toBe(a.cert);
  });

  it('does not chain a leaf to another CA', async () => {
    const other = await CertificateAuthority.create();
    const cert = new X509Certificate((await other.leafFor('api.example.test')).cert);
    expect(cert.verify(caCert.publicKey)).toBe(false);
    expect(cert.checkIssued(caCert)).toBe(false);
  });

  it('loads a kept CA whose leaves chain to the same certificate', async () => {
    const loaded = CertificateAuthority.load(ca.certPem, ca.keyPem);
    expect(loaded.certPem).toBe(ca.certPem);
    expect(loaded.keyPem).toBe(ca.keyPem);
    const cert = new X509Certificate((await loaded.leafFor('kept.test')).cert);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
  });

  it('refuses a key that is not the CA certificate’s, or not P-256', async () => {
    const other = await CertificateAuthority.create();
    expect(() => CertificateAuthority.load(ca.certPem, other.keyPem)).toThrow('does not match');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => CertificateAuthority.load(ca.certPem, rsa.toString())).toThrow('P-256');
  });
});
