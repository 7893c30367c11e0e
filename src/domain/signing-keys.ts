import type { CryptoKey, JWK } from 'jose';
import { SigningKey, type EntityManager } from '../db/index.js';
import type { Clock } from '../clock.js';
import type { SecretBox } from '../crypto/secret-box.js';
import {
  ACCESS_TOKEN_ALG,
  buildKeyResolver,
  generateSigningKey,
  importSigningKey,
  type KeyResolver,
  type PublicJwk,
} from '../crypto/tokens.js';
import { AuditEventType } from './audit.js';
import { systemContext } from './context.js';
import { inTransaction } from './unit-of-work.js';

/** Arbitrary constant naming the lock that stops two instances creating the first key at once. */
const KEY_CREATION_LOCK = 0x7e55e7b;

interface ActiveKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * The signing keys, loaded from the database: the active key signs, every
 * published key verifies. Reloaded periodically and when a token names an
 * unknown kid, so rotation done by another instance is picked up.
 */
export class SigningKeyRing {
  private active: ActiveKey | undefined;
  private published: PublicJwk[] = [];
  private resolver: KeyResolver = buildKeyResolver({ keys: [] });
  private lastReload = 0;

  constructor(
    private readonly box: SecretBox,
    private readonly clock: Clock,
  ) {}

  /** Loads the keys, creating the first one if the database has none. */
  async initialize(em: EntityManager): Promise<void> {
    if (!(await this.hasActiveKey(em))) await this.createFirstKey(em);
    await this.reload(em);
  }

  /** Re-reads the keys from the database. */
  async reload(em: EntityManager): Promise<void> {
    const now = this.clock.now();
    const rows = await em.find(SigningKey, {
      $or: [{ state: { $in: ['next', 'active'] } }, { state: 'retired', publishUntil: { $gt: now } }],
    }, { orderBy: { createdAt: 'asc' } });
    const activeRow = rows.filter((r) => r.state === 'active').at(-1);
    if (!activeRow) throw new Error('no active signing key');
    const privateJwk = JSON.parse(this.box.open(activeRow.privateJwkCiphertext, activeRow.kid)) as JWK;
    this.active = { kid: activeRow.kid, privateKey: await importSigningKey(privateJwk) };
    this.published = rows.map((r) => r.publicJwk as unknown as PublicJwk);
    this.resolver = buildKeyResolver({ keys: this.published });
    this.lastReload = now.getTime();
  }

  /** Reloads when a kid is unknown, at most once per `minIntervalMs`. Returns whether it reloaded. */
  async reloadForUnknownKid(em: EntityManager, kid: string | undefined, minIntervalMs = 5000): Promise<boolean> {
    if (!kid || this.published.some((k) => k.kid === kid)) return false;
    if (this.clock.now().getTime() - this.lastReload < minIntervalMs) return false;
    await this.reload(em);
    return true;
  }

  /** The key that signs new tokens. */
  signer(): ActiveKey {
    if (!this.active) throw new Error('signing keys not loaded');
    return this.active;
  }

  /** The public keys to publish (RFC 7517). */
  jwks(): PublicJwk[] {
    return [...this.published];
  }

  /** The verification key resolver for the published keys. */
  keyResolver(): KeyResolver {
    return this.resolver;
  }

  private async hasActiveKey(em: EntityManager): Promise<boolean> {
    return (await em.count(SigningKey, { state: 'active' })) > 0;
  }

  private async createFirstKey(em: EntityManager): Promise<void> {
    const ctx = systemContext('startup');
    await inTransaction(em, ctx, this.clock, async (uow) => {
      await uow.em.execute('select pg_advisory_xact_lock(?)', [KEY_CREATION_LOCK]);
      if ((await uow.em.count(SigningKey, { state: 'active' })) > 0) return;
      const key = await generateSigningKey();
      const now = this.clock.now();
      uow.em.create(SigningKey, {
        kid: key.kid,
        alg: ACCESS_TOKEN_ALG,
        publicJwk: { ...key.publicJwk },
        privateJwkCiphertext: this.box.seal(JSON.stringify(key.privateJwk), key.kid),
        state: 'active',
        createdAt: now,
        activatedAt: now,
        retiredAt: null,
        publishUntil: null,
      });
      uow.record({ type: AuditEventType.signingKeyCreated, metadata: { kid: key.kid, alg: ACCESS_TOKEN_ALG } });
    });
  }
}
