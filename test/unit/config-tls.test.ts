import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config.js';

const production = {
  NODE_ENV: 'production',
  TESSERA_PEPPER: randomBytes(32).toString('base64'),
  TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
  TESSERA_EMAIL_INDEX_KEY: randomBytes(32).toString('base64'),
};

const errorOf = (env: NodeJS.ProcessEnv): string => {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
};

describe('loadConfig: TLS and plaintext', () => {
  it('serves plaintext on loopback by default, also in production', () => {
    expect(loadConfig({ ...production }).tls).to.equal(undefined);
    expect(loadConfig({ ...production, NODE_ENV: 'development', GRPC_HOST: '0.0.0.0', PUBLIC_HTTP_PORT: 'off' }).tls).to.equal(
      undefined,
    );
  });

  it('refuses plaintext beyond loopback in production, naming each exposed listener', () => {
    const message = errorOf({ ...production, GRPC_HOST: '0.0.0.0', HTTP_HOST: '10.0.0.5' });
    expect(message).to.contain('GRPC_HOST=0.0.0.0').and.to.contain('HTTP_HOST=10.0.0.5').and.to.contain('ALLOW_PLAINTEXT');
  });

  it('allows it with ALLOW_PLAINTEXT=true (TLS ending at a proxy) or with certificate files', () => {
    expect(loadConfig({ ...production, GRPC_HOST: '0.0.0.0', ALLOW_PLAINTEXT: 'true' }).grpc.host).to.equal('0.0.0.0');
    const tls = loadConfig({
      ...production,
      GRPC_HOST: '0.0.0.0',
      TLS_CERT_FILE: '/etc/t/cert.pem',
      TLS_KEY_FILE: '/etc/t/key.pem',
    });
    expect(tls.tls).to.deep.equal({ certFile: '/etc/t/cert.pem', keyFile: '/etc/t/key.pem', clientCaFile: undefined });
  });

  it('needs the certificate and key together, and TLS for a client CA', () => {
    expect(errorOf({ ...production, TLS_CERT_FILE: '/etc/t/cert.pem' })).to.contain('TLS_CERT_FILE and TLS_KEY_FILE go together');
    expect(errorOf({ ...production, TLS_CLIENT_CA_FILE: '/etc/t/ca.pem' })).to.contain('TLS_CLIENT_CA_FILE needs');
  });
});
