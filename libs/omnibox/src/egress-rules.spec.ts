import { EgressPolicy, isPrivateHost, makePlaceholder, parseRule, SecretVault } from './egress-rules';

describe('egress rules', () => {
  it('matches exact hosts, subdomain globs, ports and paths', () => {
    expect(parseRule('api.example.com').host.test('api.example.com')).toBe(true);
    expect(parseRule('api.example.com').host.test('xapi.example.com')).toBe(false);
    const sub = parseRule('*.example.com');
    expect(sub.host.test('a.example.com')).toBe(true);
    expect(sub.host.test('a.b.example.com')).toBe(true);
    expect(sub.host.test('example.com')).toBe(false);
    expect(sub.host.test('example.com.evil.test')).toBe(false);
    expect(parseRule('https://github.com:443').port).toBe(443);
    const path = parseRule('github.com/org/*/settings');
    expect(path.path?.test('/org/repo/settings')).toBe(true);
    expect(path.path?.test('/org/repo/x/settings')).toBe(false);
    expect(parseRule('github.com/org/**').path?.test('/org/a/b?c=d')).toBe(true);
  });

  it('allows only listed hosts, and deny beats allow', () => {
    const p = new EgressPolicy({ allow: ['*.example.com', 'registry.npmjs.org'], deny: ['evil.example.com'] });
    expect(p.decide({ host: 'api.example.com', port: 443 })).toEqual({ allowed: true });
    expect(p.decide({ host: 'evil.example.com', port: 443 })).toMatchObject({ allowed: false, code: 'host_denied' });
    expect(p.decide({ host: 'other.test', port: 443 })).toMatchObject({ allowed: false, code: 'host_not_allowed' });
    expect(p.decide({ host: 'REGISTRY.npmjs.org', port: 443 })).toEqual({ allowed: true });
  });

  it('decides path rules when the path is known, and says when a host needs interception for them', () => {
    const p = new EgressPolicy({ allow: ['github.com'], deny: ['github.com/*/*/settings/**'] });
    expect(p.needsPath('github.com', 443)).toBe(true);
    expect(p.needsPath('example.com', 443)).toBe(false);
    expect(p.decide({ host: 'github.com', port: 443, path: '/o/r/settings/keys' })).toMatchObject({
      code: 'path_denied',
    });
    expect(p.decide({ host: 'github.com', port: 443, path: '/o/r/pulls' })).toEqual({ allowed: true });
    expect(p.decide({ host: 'github.com', port: 443 })).toEqual({ allowed: true });
    const only = new EgressPolicy({ allow: ['api.github.com/repos/**'] });
    expect(only.decide({ host: 'api.github.com', port: 443, path: '/repos/a' })).toEqual({ allowed: true });
    expect(only.decide({ host: 'api.github.com', port: 443, path: '/user' })).toMatchObject({ allowed: false });
    expect(only.decide({ host: 'api.github.com', port: 443 })).toMatchObject({ allowed: false });
  });

  it('refuses local and private addresses unless explicitly allowed (never through *)', () => {
    for (const h of [
      'localhost',
      '127.0.0.1',
      '10.1.2.3',
      '192.168.0.1',
      '172.20.0.1',
      '169.254.169.254',
      '::1',
      '[::1]',
      'fd00::1',
      '::ffff:127.0.0.1',
      '0.0.0.0',
    ]) {
      expect([h, isPrivateHost(h)]).toEqual([h, true]);
    }
    for (const h of ['8.8.8.8', 'example.com', '172.32.0.1', '2001:db8::1'])
      expect([h, isPrivateHost(h)]).toEqual([h, false]);
    const all = new EgressPolicy({ allow: ['*'] });
    expect(all.decide({ host: '169.254.169.254', port: 80 })).toMatchObject({ code: 'private_address' });
    const explicit = new EgressPolicy({ allow: ['127.0.0.1:8080'] });
    expect(explicit.decide({ host: '127.0.0.1', port: 8080 })).toEqual({ allowed: true });
    expect(explicit.decide({ host: '127.0.0.1', port: 22 })).toMatchObject({ allowed: false });
  });
});

describe('SecretVault', () => {
  const vault = new SecretVault();
  const anthropic = vault.add({ name: 'anthropic', value: 'sk-real-1', hosts: ['api.anthropic.com'] });
  const github = vault.add({ name: 'github', value: 'ghp_real', hosts: ['github.com', '*.github.com'] });

  it('makes unguessable placeholders', () => {
    expect(anthropic).toMatch(/^yoke-secret-anthropic-[0-9a-f]{24}$/);
    expect(makePlaceholder('anthropic')).not.toBe(anthropic);
    expect(() => makePlaceholder('a-b')).toThrow();
    expect(vault.placeholder('github')).toBe(github);
  });

  it('swaps a placeholder only towards its hosts, and refuses it anywhere else', () => {
    expect(vault.substitute(`Bearer ${anthropic}`, 'api.anthropic.com', 443)).toEqual({
      ok: true,
      value: 'Bearer sk-real-1',
      used: ['anthropic'],
    });
    expect(vault.substitute(`Bearer ${anthropic}`, 'evil.test', 443)).toEqual({ ok: false, secret: 'anthropic' });
    expect(vault.substitute(`x ${github} y`, 'api.github.com', 443)).toMatchObject({ ok: true, value: 'x ghp_real y' });
    expect(vault.substitute(`${github}${anthropic}`, 'github.com', 443)).toEqual({ ok: false, secret: 'anthropic' });
    const unknown = 'yoke-secret-other-0123456789abcdef01234567';
    expect(vault.substitute(unknown, 'x.test', 443)).toEqual({ ok: true, value: unknown, used: [] });
    expect(vault.hasSecretsFor('api.github.com', 443)).toBe(true);
    expect(vault.hasSecretsFor('example.com', 443)).toBe(false);
  });

  it('looks inside Basic credentials (git over https)', () => {
    const basic = `Basic ${Buffer.from(`x-access-token:${github}`).toString('base64')}`;
    const swapped = vault.substituteHeader('authorization', basic, 'github.com', 443);
    expect(swapped).toEqual({
      ok: true,
      value: `Basic ${Buffer.from('x-access-token:ghp_real').toString('base64')}`,
      used: ['github'],
    });
    expect(vault.substituteHeader('authorization', basic, 'gitlab.com', 443)).toEqual({ ok: false, secret: 'github' });
  });
});
