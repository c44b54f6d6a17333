import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { generateSigningKey, parseSigningKey, type SigningKey } from '@yoke/audit';
import type { AuditKeyView } from '@yoke/protocol';
import { APP_CONFIG, type AppConfig } from '../../core/config/config';
import { SecretBox } from '../../core/auth/secret-box';
import { AuditRepository, type AuditKeyRow } from './audit.repository';

/** Where the embedded server keeps its generated checkpoint key: in the home, beside the local secret, 0600. */
export const EMBEDDED_KEY_FILE = 'audit-signing.key';

/**
 * The checkpoint signing keys. The active key is, in order: YOKE_AUDIT_SIGNING_KEY (rotate by configuring a new
 * one: the old stays published, retired); else the one generated at first boot, kept outside the database where it
 * can be (the embedded home) or encrypted with YOKE_SECRET_KEY (team mode) — a database superuser who can rewrite
 * rows must not also be able to sign. Every key ever used is published (`GET /audit/keys`) so old checkpoints verify.
 */
@Injectable()
export class AuditKeys implements OnModuleInit {
  private readonly logger = new Logger(AuditKeys.name);
  private cached: { id: string; key: SigningKey } | null = null;

  constructor(
    private readonly repo: AuditRepository,
    private readonly secrets: SecretBox,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.activeKey();
  }

  /** The key that signs checkpoints now (created at first use). */
  async activeKey(): Promise<{ id: string; key: SigningKey }> {
    if (this.config.audit.signingKey) {
      const key = parseSigningKey(this.config.audit.signingKey);
      const id = keyId(key);
      if (this.cached?.id !== id) {
        const row = await this.repo.activeKey();
        if (row?.id !== id)
          await this.repo.addKey({ id, name: key.name, publicKey: key.publicKey, privateKey: null }, true);
        this.cached = { id, key };
      }
      return this.cached;
    }
    const row = await this.repo.activeKey();
    if (row && this.cached?.id === row.id) return this.cached;
    if (row) {
      const skey = this.privateOf(row);
      if (skey) {
        this.cached = { id: row.id, key: parseSigningKey(skey) };
        return this.cached;
      }
      this.logger.warn({ keyId: row.id }, 'the active audit key cannot be read here: generating a new one');
    }
    return this.generate();
  }

  async published(): Promise<AuditKeyView[]> {
    await this.activeKey();
    const rows = await this.repo.keys();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      vkey: `${r.id}+${Buffer.concat([Buffer.from([1]), Buffer.from(r.publicKey)]).toString('base64')}`,
      createdAt: r.createdAt.toISOString(),
      retiredAt: r.retiredAt?.toISOString() ?? null,
    }));
  }

  private async generate(): Promise<{ id: string; key: SigningKey }> {
    const stamp = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const key = generateSigningKey(`yoke-audit-${stamp}`);
    const id = keyId(key);
    let privateKey: string | null;
    if (this.config.embedded) {
      writeKeyFile(this.keyFile(), key.skey);
      privateKey = null;
    } else if (this.secrets.isConfigured) {
      privateKey = `box:${this.secrets.encrypt(key.skey)}`;
    } else {
      this.logger.warn(
        'no YOKE_SECRET_KEY or YOKE_AUDIT_SIGNING_KEY: the audit signing key is stored in the database unencrypted, ' +
          'so whoever can write the database could also re-sign checkpoints; configure one of them',
      );
      privateKey = `plain:${key.skey}`;
    }
    await this.repo.addKey({ id, name: key.name, publicKey: key.publicKey, privateKey }, true);
    this.logger.log({ keyId: id }, 'generated an audit checkpoint signing key');
    this.cached = { id, key };
    return this.cached;
  }

  private privateOf(row: AuditKeyRow): string | null {
    if (row.privateKey?.startsWith('box:')) {
      if (!this.secrets.isConfigured) return null;
      try {
        return this.secrets.decrypt(row.privateKey.slice(4));
      } catch {
        // Sealed under another YOKE_SECRET_KEY: this server cannot sign with it (a new key is made and published).
        return null;
      }
    }
    if (row.privateKey?.startsWith('plain:')) return row.privateKey.slice(6);
    if (this.config.embedded && existsSync(this.keyFile())) {
      const skey = readFileSync(this.keyFile(), 'utf8').trim();
      return keyId(parseSigningKey(skey)) === row.id ? skey : null;
    }
    return null;
  }

  private keyFile(): string {
    return join(this.config.home, EMBEDDED_KEY_FILE);
  }
}

/** A key's id: `name+hex(keyhash)`, the first two fields of its verifier key. */
export function keyId(key: SigningKey): string {
  return `${key.name}+${key.keyHash.toString('hex')}`;
}

function writeKeyFile(path: string, skey: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, `${skey}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
}
