import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const secrets = () => ({
  TESSERA_PEPPER: randomBytes(32).toString('base64'),
  TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
});

function configErrorOf(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  let dataDir: string;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tessera-config-'));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it('fills in the documented defaults', () => {
    const config = loadConfig({ ...secrets(), TESSERA_DATA_DIR: dataDir });
    expect(config.env).to.equal('development');
    expect(config.databaseUrl).to.equal(undefined);
    expect(config.grpc).to.deep.equal({
      host: '127.0.0.1',
      port: 50051,
      maxMessageBytes: 128 * 1024,
      shutdownGraceMs: 10_000,
      maxConcurrentStreams: 1000,
      maxConnectionAgeMs: 30 * 60_000,
      maxConnectionAgeGraceMs: 5 * 60_000,
      maxConnectionIdleMs: 5 * 60_000,
    });
    expect(config.http).to.deep.equal({ host: '127.0.0.1', port: 9090 });
    expect(config.logLevel).to.equal('info');
    expect(config.tokens).to.deep.equal({
      issuer: 'urn:tessera:dev',
      audience: 'tessera',
      accessTtlSeconds: 900,
      sessionIdleTimeoutSeconds: 30 * 24 * 3600,
      sessionAbsoluteLifetimeSeconds: 90 * 24 * 3600,
      refreshReuseGraceSeconds: 10,
      stepUpMaxAgeSeconds: 600,
    });
    expect(config.oneTimeTokens).to.deep.equal({ passwordResetTtlSeconds: 1800, emailVerificationTtlSeconds: 24 * 3600 });
    expect(config.signingKeys).to.deep.equal({ propagationSeconds: 600, reloadSeconds: 30 });
    expect(config.mail).to.deep.include({ smtpUrl: undefined, publicBaseUrl: undefined, maxAttempts: 12 });
    expect(config.publicHttp).to.deep.equal({ host: '127.0.0.1', port: 3000 });
    expect(config.secrets.previousPeppers).to.deep.equal([]);
    expect(config.argon2).to.include({ memoryKib: 19456, timeCost: 2, parallelism: 1, queueTimeoutMs: 5000 });
    expect(config.argon2.maxConcurrent).to.be.at.least(1);
    expect(config.bootstrapAdmin).to.equal(undefined);
  });

  it('reads numbers, ports and secrets from strings (base64 or hex)', () => {
    const hexPepper = randomBytes(32).toString('hex');
    const config = loadConfig({
      TESSERA_PEPPER: hexPepper,
      TESSERA_MASTER_KEY: randomBytes(48).toString('base64'),
      TESSERA_DATA_DIR: dataDir,
      GRPC_PORT: '0',
      SHUTDOWN_GRACE_SECONDS: '3',
    });
    expect(config.grpc.port).to.equal(0);
    expect(config.grpc.shutdownGraceMs).to.equal(3000);
    expect(config.secrets.pepper.equals(Buffer.from(hexPepper, 'hex'))).to.equal(true);
    expect(config.secrets.masterKey).to.have.length(48);
  });

  for (const bad of ['http', '-1', '65536', '1.5']) {
    it(`refuses GRPC_PORT=${bad} with a ConfigError naming GRPC_PORT`, () => {
      expect(configErrorOf({ ...secrets(), TESSERA_DATA_DIR: dataDir, GRPC_PORT: bad }).message).to.contain('GRPC_PORT');
    });
  }

  it('reads the session limits, keeping REFRESH_TOKEN_TTL_SECONDS as the older name of the idle timeout', () => {
    const base = { ...secrets(), TESSERA_DATA_DIR: dataDir };
    expect(loadConfig({ ...base, REFRESH_TOKEN_TTL_SECONDS: '600' }).tokens.sessionIdleTimeoutSeconds).to.equal(600);
    const both = loadConfig({
      ...base,
      REFRESH_TOKEN_TTL_SECONDS: '600',
      SESSION_IDLE_TIMEOUT_SECONDS: '700',
      SESSION_ABSOLUTE_LIFETIME_SECONDS: '800',
    });
    expect(both.tokens).to.include({ sessionIdleTimeoutSeconds: 700, sessionAbsoluteLifetimeSeconds: 800 });
  });

  it('reads previous peppers as a comma-separated list and refuses a short one, naming it', () => {
    const [a, b] = [randomBytes(32), randomBytes(40)];
    const config = loadConfig({
      ...secrets(),
      TESSERA_DATA_DIR: dataDir,
      TESSERA_PREVIOUS_PEPPERS: `${a.toString('base64')}, ${b.toString('hex')}`,
    });
    expect(config.secrets.previousPeppers.map((p) => p.toString('hex'))).to.deep.equal([a.toString('hex'), b.toString('hex')]);
    expect(configErrorOf({ ...secrets(), TESSERA_DATA_DIR: dataDir, TESSERA_PREVIOUS_PEPPERS: 'c2hvcnQ=' }).message).to.contain(
      'TESSERA_PREVIOUS_PEPPERS',
    );
  });

  it('refuses a SMTP_URL that is not smtp(s) and a PUBLIC_BASE_URL that is not http(s), naming both', () => {
    const message = configErrorOf({
      ...secrets(),
      TESSERA_DATA_DIR: dataDir,
      SMTP_URL: 'http://mail',
      PUBLIC_BASE_URL: 'ftp://x',
    }).message;
    expect(message).to.contain('SMTP_URL').and.to.contain('PUBLIC_BASE_URL');
  });

  it('names every invalid variable at once', () => {
    const { message } = configErrorOf({ ...secrets(), GRPC_PORT: 'x', LOG_LEVEL: 'loud', DATABASE_URL: 'not a url' });
    expect(message).to.contain('GRPC_PORT').and.to.contain('LOG_LEVEL').and.to.contain('DATABASE_URL');
  });

  it('refuses a secret shorter than 32 bytes, naming it', () => {
    const { message } = configErrorOf({ ...secrets(), TESSERA_PEPPER: randomBytes(16).toString('base64') });
    expect(message).to.contain('TESSERA_PEPPER').and.to.contain('32 bytes');
  });

  it('refuses production without secrets, naming both variables, and writes no file', () => {
    const { message } = configErrorOf({ NODE_ENV: 'production', TESSERA_DATA_DIR: dataDir });
    expect(message).to.contain('TESSERA_PEPPER').and.to.contain('TESSERA_MASTER_KEY');
    expect(existsSync(join(dataDir, 'secrets.json'))).to.equal(false);
  });

  it('refuses production with only one secret, naming the missing one', () => {
    const { message } = configErrorOf({ NODE_ENV: 'production', TESSERA_PEPPER: secrets().TESSERA_PEPPER });
    expect(message).to.contain('TESSERA_MASTER_KEY').and.not.to.contain('TESSERA_PEPPER');
  });

  it('generates development secrets once into <dataDir>/secrets.json (mode 0600) and reuses them', () => {
    const warnings: string[] = [];
    const first = loadConfig({ NODE_ENV: 'development', TESSERA_DATA_DIR: dataDir }, (m) => warnings.push(m));
    const file = join(dataDir, 'secrets.json');
    expect(statSync(file).mode & 0o777).to.equal(0o600);
    expect(first.secrets.pepper).to.have.length(32);
    expect(first.secrets.masterKey).to.have.length(32);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.contain(file);
    const stored = readFileSync(file, 'utf8');

    const second = loadConfig({ NODE_ENV: 'development', TESSERA_DATA_DIR: dataDir }, (m) => warnings.push(m));
    expect(second.secrets.pepper.equals(first.secrets.pepper)).to.equal(true);
    expect(second.secrets.masterKey.equals(first.secrets.masterKey)).to.equal(true);
    expect(warnings).to.have.length(1);
    expect(readFileSync(file, 'utf8')).to.equal(stored);
  });

  it('prefers secrets from the environment over the generated file', () => {
    loadConfig({ NODE_ENV: 'development', TESSERA_DATA_DIR: dataDir });
    const env = secrets();
    const config = loadConfig({ NODE_ENV: 'development', TESSERA_DATA_DIR: dataDir, ...env });
    expect(config.secrets.pepper.equals(Buffer.from(env.TESSERA_PEPPER, 'base64'))).to.equal(true);
  });

  it('refuses a bootstrap admin email without a password, and a password without an email', () => {
    const base = { ...secrets(), TESSERA_DATA_DIR: dataDir };
    expect(configErrorOf({ ...base, TESSERA_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com' }).message).to.contain(
      'TESSERA_BOOTSTRAP_ADMIN_PASSWORD',
    );
    expect(configErrorOf({ ...base, TESSERA_BOOTSTRAP_ADMIN_PASSWORD: 'passphrase' }).message).to.contain(
      'TESSERA_BOOTSTRAP_ADMIN_EMAIL',
    );
  });

  it('reads the bootstrap admin when both variables are set', () => {
    const config = loadConfig({
      ...secrets(),
      TESSERA_DATA_DIR: dataDir,
      TESSERA_BOOTSTRAP_ADMIN_EMAIL: 'root@example.com',
      TESSERA_BOOTSTRAP_ADMIN_PASSWORD: 'passphrase',
    });
    expect(config.bootstrapAdmin).to.deep.equal({ email: 'root@example.com', password: 'passphrase' });
  });
});
