import type { JWK } from 'jose';
import { findPublishedSigningKeys, SigningKey, type EntityManager } from '../../db/index.js';
import type { Clock } from '../../clock.js';
import type { SecretBox } from '../../crypto/secret-box.js';
import {
  ACCESS_TOKEN_ALG,
  buildKeyResolver,
  generateSigningKey,
  importSigningKey,
  type KeyResolver,
  type PublicJwk,
} from '../../crypto/tokens.js';
import { AuditEventType } from '../kernel/audit-record.js';
import type { ActiveSigningKey, Operation, RotationResult, SigningKeys } from '../kernel/operation.js';
import { inTransaction, type UnitOfWork } from '../kernel/unit-of-work.js';

/** Arbitrary constant naming the lock that stops two instances creating the first key at once. */
const KEY_CREATION_LOCK = 0x7e55e7b;

/** How rotation is timed. */
export interface KeyRotationPolicy {
  /** How long a next key is published before it may sign (JWKS caches, other instances). */
  propagationSeconds: number;
  /** How often every instance re-reads the keys. */
  reloadSeconds: number;
  /** The longest access token lifetime: a retired key stays published this long (plus margins). */
  accessTtlSeconds: number;
}

/**
 * The signing keys, loaded from the database: the active key signs, every
 * published key (next, active, retired until its publishUntil) verifies.
 * Reloaded periodically (`startReloading`) and when a token names an unknown
 * kid, so rotation done by another instance is picked up.
 */
export class SigningKeyRing implements SigningKeys {
  private active: ActiveSigningKey | undefined;
  private published: PublicJwk[] = [];
  private resolver: KeyResolver = buildKeyResolver({ keys: [] });
  private lastReload = 0;

  constructor(
    private readonly box: SecretBox,
    private readonly clock: Clock,
    private readonly policy: KeyRotationPolicy,
  ) {}

  /** Loads the keys, creating the active one and a published next one when missing. */
  async initialize(op: Operation): Promise<void> {
    if (!(await this.hasActiveAndNextKeys(op.em))) await this.createMissingKeys(op);
    await this.reload(op.em);
  }

  /**
   * Rotates without downtime. The next key, already published, becomes the
   * signing key once it has been published for the propagation delay (or at
   * once with `immediate`); the old key is retired but stays published until
   * every token it signed has expired; a new next key is published. When the
   * next key is too young, nothing changes and `promotableAt` says when.
   */
  async rotate(op: Operation, options: { immediate: boolean }): Promise<RotationResult> {
    const result = await inTransaction(op, async (uow) => {
      await uow.em.execute('select pg_advisory_xact_lock(?)', [KEY_CREATION_LOCK]);
      const now = this.clock.now();
      const active = await uow.em.findOneOrFail(SigningKey, { state: 'active' }, { orderBy: { createdAt: 'desc' } });
      const next =
        (await uow.em.findOne(SigningKey, { state: 'next' }, { orderBy: { createdAt: 'asc' } })) ??
        (await this.createKey(uow, 'next'));
      const promotableAt = new Date(next.createdAt.getTime() + this.policy.propagationSeconds * 1000);
      if (!options.immediate && promotableAt > now) {
        return { promoted: false, activeKid: active.kid, nextKid: next.kid, retiredKid: null, promotableAt };
      }
      active.state = 'retired';
      active.retiredAt = now;
      active.publishUntil = new Date(now.getTime() + this.retiredPublicationMs());
      next.state = 'active';
      next.activatedAt = now;
      const following = await this.createKey(uow, 'next');
      uow.record({
        type: AuditEventType.signingKeyRotated,
        metadata: {
          kid: next.kid,
          alg: next.alg,
          retired_kid: active.kid,
          next_kid: following.kid,
          immediate: options.immediate,
        },
      });
      return { promoted: true, activeKid: next.kid, nextKid: following.kid, retiredKid: active.kid, promotableAt: null };
    });
    await this.reload(op.em);
    return result;
  }

  /**
   * A retired key verifies tokens until the last one it signed expires. Other
   * instances may sign with it until their next reload, so that interval
   * (twice, for a slow reload) and a minute of clock skew are added.
   */
  private retiredPublicationMs(): number {
    return (this.policy.accessTtlSeconds + 2 * this.policy.reloadSeconds + 60) * 1000;
  }

  /** Re-reads the keys from the database. */
  async reload(em: EntityManager): Promise<void> {
    const now = this.clock.now();
    const rows = await findPublishedSigningKeys(em, now);
    const activeRow = rows.filter((r) => r.state === 'active').at(-1);
    if (!activeRow) throw new Error('no active signing key');
    const privateJwk = JSON.parse(this.box.open(activeRow.privateJwkCiphertext, activeRow.kid)) as JWK;
    this.active = { kid: activeRow.kid, privateKey: await importSigningKey(privateJwk) };
    this.published = rows.map((r) => r.publicJwk as unknown as PublicJwk);
    this.resolver = buildKeyResolver({ keys: this.published });
    this.lastReload = now.getTime();
  }

  /** Re-reads the keys every `reloadSeconds` until the returned function is called. */
  startReloading(em: () => EntityManager, onError: (err: unknown) => void): () => void {
    const timer = setInterval(() => void this.reload(em()).catch(onError), this.policy.reloadSeconds * 1000);
    timer.unref();
    return () => clearInterval(timer);
  }

  /** Reloads when a kid is unknown, at most once per `minIntervalMs`. Returns whether it reloaded. */
  async reloadForUnknownKid(em: EntityManager, kid: string | undefined, minIntervalMs = 5000): Promise<boolean> {
    if (!kid || this.published.some((k) => k.kid === kid)) return false;
    if (this.clock.now().getTime() - this.lastReload < minIntervalMs) return false;
    await this.reload(em);
    return true;
  }

  /** The key that signs new tokens. */
  signer(): ActiveSigningKey {
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

  private async hasActiveAndNextKeys(em: EntityManager): Promise<boolean> {
    const [active, next] = await Promise.all([
      em.count(SigningKey, { state: 'active' }),
      em.count(SigningKey, { state: 'next' }),
    ]);
    return active > 0 && next > 0;
  }

  private async createMissingKeys(op: Operation): Promise<void> {
    await inTransaction(op, async (uow) => {
      await uow.em.execute('select pg_advisory_xact_lock(?)', [KEY_CREATION_LOCK]);
      if ((await uow.em.count(SigningKey, { state: 'active' })) === 0) await this.createKey(uow, 'active');
      if ((await uow.em.count(SigningKey, { state: 'next' })) === 0) await this.createKey(uow, 'next');
    });
  }

  /** Generates a key pair and stores it, the private half encrypted, with its audit event. */
  private async createKey(uow: UnitOfWork, state: 'active' | 'next'): Promise<SigningKey> {
    const key = await generateSigningKey();
    const now = this.clock.now();
    const row = uow.em.create(SigningKey, {
      kid: key.kid,
      alg: ACCESS_TOKEN_ALG,
      publicJwk: { ...key.publicJwk },
      privateJwkCiphertext: this.box.seal(JSON.stringify(key.privateJwk), key.kid),
      state,
      createdAt: now,
      activatedAt: state === 'active' ? now : null,
      retiredAt: null,
      publishUntil: null,
    });
    uow.record({ type: AuditEventType.signingKeyCreated, metadata: { kid: key.kid, alg: ACCESS_TOKEN_ALG, state } });
    return row;
  }
}
