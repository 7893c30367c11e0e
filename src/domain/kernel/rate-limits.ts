/** What a guess is counted against: the account it targets (its normalized email, known or not) and the client. */
export interface GuessKeys {
  account: string;
  ip: string | null;
}

/** A guess counted before it was checked; the caller reports how the check went. */
export interface ReservedGuess {
  /** The guess was right: the account's count starts over and the client gets its attempt back. */
  succeeded(): Promise<void>;
  /**
   * The guess was right but the sign-in needs another factor: the attempt is
   * given back, and the account's count is kept, so passing the password
   * again never resets the count of wrong second-factor codes.
   */
  passed(): Promise<void>;
  /** The guess was wrong. `locked` is true for the one failure that locked the account (once per lock). */
  failed(): Promise<{ locked: boolean }>;
}

/** A guess may be checked, or must wait. */
export type GuessReservation = { granted: true; guess: ReservedGuess } | { granted: false; retryAfterMs: number };

/**
 * Counts guesses of a secret (a password, later one-time codes) before they
 * are checked: a reservation is taken atomically, so N guesses in flight at
 * once can never exceed the limit. While the account or the client is locked
 * every guess is refused, the right one too. When the count cannot be taken
 * (a shared store unreachable) `reserve` throws an `unavailable` DomainError:
 * a guess is never checked uncounted.
 */
export interface GuessLimiter {
  reserve(keys: GuessKeys): Promise<GuessReservation>;
}

/** The anonymous (or nearly anonymous) calls counted per client address. */
export type LimitedCall = 'register' | 'password_reset' | 'email_verification' | 'provider_login';

/** Mail a caller can have sent to an address, counted per address. */
export type LimitedMail = 'password_reset' | 'email_verification';

/** Per-client limits of the calls anyone can make, and per-address limits of the mail they send. */
export interface RequestLimiter {
  /** Counts one call from `ip`; the wait in milliseconds once that client spent its calls of the window. */
  consumeCall(call: LimitedCall, ip: string): Promise<number | undefined>;
  /** Counts one mail to `address`; false once the address had its share of the hour. */
  mayMail(mail: LimitedMail, address: string): Promise<boolean>;
}
