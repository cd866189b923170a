import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './env';

describe('sync configuration', () => {
  it('reads strategies per memory type, the push batch and the horizon wait', () => {
    const config = loadConfig({
      ORA_SYNC_STRATEGIES: 'preference=manual, fact=merge',
      ORA_SYNC_PUSH_BATCH: '250',
      ORA_SYNC_HORIZON_WAIT_MS: '500',
    });
    expect(config.sync).toEqual({
      strategies: { preference: 'manual', fact: 'merge' },
      pushBatchSize: 250,
      horizonWaitMs: 500,
    });
    expect(loadConfig({}).sync).toEqual({ strategies: {}, pushBatchSize: 1000, horizonWaitMs: 2000 });
  });

  it('names the variable and the bad entry', () => {
    expect(() => loadConfig({ ORA_SYNC_STRATEGIES: 'fact=coin_flip' })).toThrow(ConfigError);
    expect(() => loadConfig({ ORA_SYNC_STRATEGIES: 'fact=coin_flip' })).toThrow(
      /ORA_SYNC_STRATEGIES: "fact=coin_flip"/,
    );
    expect(() => loadConfig({ ORA_SYNC_PUSH_BATCH: '0' })).toThrow(/ORA_SYNC_PUSH_BATCH/);
  });
});
