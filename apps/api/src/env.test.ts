import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env';

describe('configuration', () => {
  it('defaults to the embedded mode on 127.0.0.1:8787 with data in ./.ora', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 8787, host: '127.0.0.1', databaseUrl: undefined, redisUrl: undefined });
    expect(config.dataDir).toMatch(/\.ora$/);
  });

  it('names every bad variable and never echoes a secret', () => {
    let error: unknown;
    try {
      loadConfig({ PORT: '99999', DATABASE_URL: 'mysql://x', ORA_BOOTSTRAP_KEY: 'ora_sk_leaky', LOG_LEVEL: 'loud' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    for (const name of ['PORT', 'DATABASE_URL', 'ORA_BOOTSTRAP_KEY', 'LOG_LEVEL']) expect(message).toContain(name);
    expect(message).not.toContain('ora_sk_leaky');
    expect(message).toContain('"loud"');
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).port).toBe(8787);
  });
});
