import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type Server } from 'node:tls';
import { CertificateAuthority } from './tls-ca';

/** A TLS client on loopback that trusts only `ca`: resolves once the handshake is verified, rejects otherwise. */
function handshake(port: number, servername: string, ca: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, servername, ca: [ca] }, () => {
      socket.end();
      resolve();
    });
    socket.on('error', reject);
  });
}

describe('CertificateAuthority leaves in a real TLS handshake', () => {
  let ca: CertificateAuthority;
  let server: Server;
  let port: number;

  beforeAll(async () => {
    ca = await CertificateAuthority.create({ commonName: 'Handshake test CA' });
    const leaf = await ca.leafFor('api.example.test');
    server = createServer({ cert: leaf.cert, key: leaf.key }, (socket) => socket.end());
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => server.close());

  it('succeeds for the leaf’s host when the client trusts only the CA', async () => {
    await expect(handshake(port, 'api.example.test', ca.certPem)).resolves.toBeUndefined();
  });

  it('fails for another host name', async () => {
    await expect(handshake(port, 'other.example.test', ca.certPem)).rejects.toMatchObject({
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('fails for a client that trusts another CA', async () => {
    const other = await CertificateAuthority.create();
    await expect(handshake(port, 'api.example.test', other.certPem)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
  });
});
