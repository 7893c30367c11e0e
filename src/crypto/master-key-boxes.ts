import { SecretBox } from './secret-box.js';

/** Everything the master key protects, one box (derived key) per purpose. */
export interface MasterKeyBoxes {
  /** Wraps the users' data keys. */
  userKeys: SecretBox;
  /** The private halves of the token signing keys. */
  signingKeys: SecretBox;
  /** The successor of a rotated refresh token, for the reuse grace window. */
  refreshSuccessors: SecretBox;
  /** Queued mail (addresses, links with tokens) until it is delivered. */
  outbox: SecretBox;
}

/** The boxes for a master key ring: `current` seals, `previous` still open. */
export function masterKeyBoxes(current: Buffer, previous: readonly Buffer[]): MasterKeyBoxes {
  const ring = [current, ...previous];
  return {
    userKeys: new SecretBox(ring, 'user-data-keys'),
    signingKeys: new SecretBox(ring, 'signing-keys'),
    refreshSuccessors: new SecretBox(ring, 'refresh-successors'),
    outbox: new SecretBox(ring, 'email-outbox'),
  };
}
