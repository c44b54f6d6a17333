import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '@yoke/protocol';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { APP_CONFIG, type AppConfig } from '../config/config';

/**
 * Keys derived from YOKE_SECRET_KEY: one signs cookies and CSRF tokens, one encrypts secrets at rest (AES-256-GCM).
 * Embedded mode needs neither (no sign-in); team mode without the key refuses browser sign-in and SSO setup.
 */
@Injectable()
export class SecretBox {
  private readonly keys: { sign: Buffer; encrypt: Buffer } | null;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.keys = config.secretKey ? SecretBox.derive(config.secretKey) : null;
  }

  static derive(secret: string) {
    const key = (info: string) => Buffer.from(hkdfSync('sha256', secret, 'yoke', info, 32));
    return { sign: key('cookie-signing'), encrypt: key('secret-encryption') };
  }

  get isConfigured(): boolean {
    return this.keys !== null;
  }

  private need() {
    if (!this.keys) {
      throw new AppError('auth.sso_not_configured', 'browser sign-in needs YOKE_SECRET_KEY on the server');
    }
    return this.keys;
  }

  /** `value.signature` (HMAC-SHA256, base64url), for cookies. */
  sign(value: string): string {
    return `${value}.${this.mac(value)}`;
  }

  /** The value of a signed string, or null when the signature does not hold. */
  unsign(signed: string | undefined): string | null {
    if (!signed || !this.keys) return null;
    const i = signed.lastIndexOf('.');
    if (i <= 0) return null;
    const value = signed.slice(0, i);
    const given = Buffer.from(signed.slice(i + 1));
    const expected = Buffer.from(this.mac(value));
    return given.length === expected.length && timingSafeEqual(given, expected) ? value : null;
  }

  mac(value: string): string {
    return createHmac('sha256', this.need().sign).update(value).digest('base64url');
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.need().encrypt, iv);
    const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join(
      '.',
    );
  }

  decrypt(sealed: string): string {
    const [v, iv, tag, data] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || data === undefined) throw new Error('unknown sealed secret format');
    const decipher = createDecipheriv('aes-256-gcm', this.need().encrypt, Buffer.from(iv, 'base64url'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
  }
}

/** Cookies of a request header, first value wins. */
export function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    const name = part.slice(0, i).trim();
    if (!name || name in out) continue;
    let value = part.slice(i + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}
