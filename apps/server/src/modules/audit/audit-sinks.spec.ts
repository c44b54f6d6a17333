import { isAuditSinkUrl } from '@yoke/protocol';
import { signature } from './audit-sink-senders';
import type { AuditSinkRow } from './audit-sinks.repository';
import { sinkView } from './audit-sink-view';

const row = (over: Partial<AuditSinkRow> = {}): AuditSinkRow => ({
  id: '00000000-0000-4000-8000-000000000001',
  orgId: '00000000-0000-4000-8000-000000000002',
  name: 'siem',
  kind: 'webhook',
  url: 'https://siem.example/hook',
  format: 'yoke',
  secretEnc: 'v1.sealed',
  enabled: true,
  cursor: 10n,
  lastDeliveredAt: null,
  lastError: null,
  failingSince: null,
  attempts: 0,
  createdAt: new Date('2026-12-01T00:00:00.000Z'),
  updatedAt: new Date('2026-12-01T00:00:00.000Z'),
  ...over,
});

describe('audit sink URLs', () => {
  it.each([
    'https://siem.example/hook',
    'https://10.0.0.5:8443/v1/logs',
    'http://127.0.0.1:4318/v1/logs',
    'http://localhost/hook',
    'http://[::1]:9000/hook',
  ])('accepts %s', (url) => expect(isAuditSinkUrl(url)).toBe(true));

  it.each([
    'http://siem.example/hook',
    'http://10.0.0.5/hook',
    'http://127.0.0.2/hook',
    'http://localhost.example/hook',
    'ftp://127.0.0.1/hook',
    'file:///etc/passwd',
    'https://user:secret@siem.example/hook',
    'https://token@siem.example/hook',
    'not a url',
  ])('refuses %s', (url) => expect(isAuditSinkUrl(url)).toBe(false));
});

describe('webhook signatures', () => {
  it('is v1= and the hex HMAC-SHA256, under the secret, of timestamp.body', () => {
    // Computed apart: python3 -c 'import hmac,hashlib; print(hmac.new(b"whsec-test",
    //   b"1700000000.{\"events\":[]}", hashlib.sha256).hexdigest())'
    expect(signature('whsec-test', '1700000000', '{"events":[]}')).toBe(
      'v1=f6508d728f59e4a4c30a839747614dc39926dae93caf45c8e91908c852f5ce5d',
    );
    expect(signature('whsec-test', '1700000001', '{"events":[]}')).not.toBe(
      signature('whsec-test', '1700000000', '{"events":[]}'),
    );
  });
});

describe('sink health', () => {
  it('is paused when disabled, failing while failures go on, idle when caught up, healthy otherwise', () => {
    expect(sinkView(row({ enabled: false, failingSince: new Date() }), 12)).toMatchObject({ health: 'paused', lag: 2 });
    expect(sinkView(row({ failingSince: new Date(), lastError: 'HTTP 500 from the sink' }), 12)).toMatchObject({
      health: 'failing',
      lastError: 'HTTP 500 from the sink',
    });
    expect(sinkView(row(), 10)).toMatchObject({ health: 'idle', lag: 0, cursor: 10 });
    expect(sinkView(row(), 15)).toMatchObject({ health: 'healthy', lag: 5 });
    // A sink made to start past the log's end waits, never negative.
    expect(sinkView(row({ cursor: 20n }), 15)).toMatchObject({ health: 'idle', lag: 0 });
  });

  it('never shows the sealed secret', () => {
    expect(JSON.stringify(sinkView(row(), 10))).not.toContain('sealed');
  });
});
