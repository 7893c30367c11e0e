import { generateSecret, generateURI, verify } from 'otplib';
import QRCode from 'qrcode';

/** RFC 6238 as every authenticator app implements it: HMAC-SHA-1, 6 digits, 30-second steps. */
const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Name shown in authenticator apps. */
const TOTP_ISSUER = 'Tessera';

/** A new TOTP secret (160 random bits, base32) with its otpauth:// URI and that URI as a QR code (PNG). */
export async function newTotpSecret(accountName: string): Promise<{ secret: string; uri: string; qrPng: Buffer }> {
  const secret = generateSecret({ length: 20 });
  const uri = generateURI({
    issuer: TOTP_ISSUER,
    label: accountName,
    secret,
    algorithm: 'sha1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
  });
  const qrPng = await QRCode.toBuffer(uri, { type: 'png', errorCorrectionLevel: 'M' });
  return { secret, uri, qrPng };
}

/**
 * Checks a 6-digit code at `now`, one step of clock skew either way. Only a
 * step after `afterTimeStep` is accepted, so a code used once is refused for
 * the rest of its window. Returns the matched step, or null.
 */
export async function verifyTotpCode(
  secret: string,
  code: string,
  now: Date,
  afterTimeStep: number | null,
): Promise<number | null> {
  const result = await verify({
    secret,
    token: code,
    algorithm: 'sha1',
    digits: DIGITS,
    period: PERIOD_SECONDS,
    epoch: Math.floor(now.getTime() / 1000),
    epochTolerance: PERIOD_SECONDS,
    ...(afterTimeStep === null ? {} : { afterTimeStep }),
  });
  // The TOTP strategy's result carries the matched step (the HOTP one, a counter, does not).
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
