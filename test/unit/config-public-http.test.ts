import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig } from '../../src/config.js';

const secrets = {
  TESSERA_PEPPER: randomBytes(32).toString('base64'),
  TESSERA_MASTER_KEY: randomBytes(32).toString('base64'),
  TESSERA_EMAIL_INDEX_KEY: randomBytes(32).toString('base64'),
};

describe('loadConfig: the public pages listener', () => {
  it('listens on 127.0.0.1:3000 in development, where mailed links point by default', () => {
    const config = loadConfig({ ...secrets, NODE_ENV: 'development' });
    expect(config.publicHttp).to.deep.equal({ host: '127.0.0.1', port: 3000 });
    expect(config.mail.publicBaseUrl).to.equal(undefined);
  });

  it('is off in production and in tests unless PUBLIC_HTTP_PORT is set', () => {
    expect(loadConfig({ ...secrets, NODE_ENV: 'production' }).publicHttp).to.equal(undefined);
    expect(loadConfig({ ...secrets, NODE_ENV: 'test' }).publicHttp).to.equal(undefined);
    const configured = loadConfig({
      ...secrets,
      NODE_ENV: 'production',
      PUBLIC_HTTP_HOST: '0.0.0.0',
      ALLOW_PLAINTEXT: 'true',
      PUBLIC_HTTP_PORT: '8443',
      PUBLIC_BASE_URL: 'https://id.example.com/',
    });
    expect(configured.publicHttp).to.deep.equal({ host: '0.0.0.0', port: 8443 });
    expect(configured.mail.publicBaseUrl).to.equal('https://id.example.com');
  });

  it('can be turned off in development with PUBLIC_HTTP_PORT=off', () => {
    expect(loadConfig({ ...secrets, NODE_ENV: 'development', PUBLIC_HTTP_PORT: 'off' }).publicHttp).to.equal(undefined);
  });

  it('needs PUBLIC_BASE_URL in production, where the listen address is not what users reach', () => {
    expect(() => loadConfig({ ...secrets, NODE_ENV: 'production', PUBLIC_HTTP_PORT: '8080' }))
      .to.throw(ConfigError)
      .with.property('message')
      .that.contains('PUBLIC_BASE_URL');
  });
});
