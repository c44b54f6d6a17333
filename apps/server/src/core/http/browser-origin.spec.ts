import { checkBrowserOrigin, isLoopbackHost } from './browser-origin';

const host = '127.0.0.1:7420';

describe('checkBrowserOrigin', () => {
  it('lets non-browser clients through (no Origin, no Sec-Fetch-Site): their credential decides', () => {
    expect(checkBrowserOrigin({ host }, []).ok).toBe(true);
  });

  it("accepts the server's own origin and a first-party fetch", () => {
    expect(checkBrowserOrigin({ host, origin: 'http://127.0.0.1:7420' }, []).ok).toBe(true);
    expect(checkBrowserOrigin({ host, 'sec-fetch-site': 'same-origin' }, []).ok).toBe(true);
    expect(checkBrowserOrigin({ host, 'sec-fetch-site': 'none' }, []).ok).toBe(true);
  });

  it('refuses another site, another port of the same host, null and non-http origins', () => {
    for (const origin of [
      'https://evil.example',
      'http://127.0.0.1:3000',
      'http://localhost:7420',
      'null',
      'file://',
    ]) {
      const v = checkBrowserOrigin({ host, origin }, []);
      expect(v.ok).toBe(false);
    }
  });

  it('refuses a cross-site or same-site browser request that hides its Origin', () => {
    expect(checkBrowserOrigin({ host, 'sec-fetch-site': 'cross-site' }, []).ok).toBe(false);
    expect(checkBrowserOrigin({ host, 'sec-fetch-site': 'same-site' }, []).ok).toBe(false);
  });

  it('accepts an origin on the allow list, and only that one', () => {
    const allowed = ['https://yoke.example.com'];
    expect(checkBrowserOrigin({ host: 'internal:80', origin: 'https://yoke.example.com' }, allowed).ok).toBe(true);
    expect(checkBrowserOrigin({ host: 'internal:80', origin: 'https://yoke.example.com.evil.io' }, allowed).ok).toBe(
      false,
    );
    expect(checkBrowserOrigin({ host: 'internal:80', origin: 'http://yoke.example.com' }, allowed).ok).toBe(false);
  });
});

describe('isLoopbackHost', () => {
  it('knows loopback names with and without ports, and nothing else', () => {
    for (const h of ['127.0.0.1:7420', 'localhost', 'LOCALHOST:1', '[::1]:7420']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of [undefined, 'evil.example:7420', '127.0.0.1.nip.io:7420', '10.0.0.1']) {
      expect(isLoopbackHost(h)).toBe(false);
    }
  });
});
