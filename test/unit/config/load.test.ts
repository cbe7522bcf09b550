import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig, resolveDataDir } from '../../../app/config/load';

// defaults < config.json < environment < flags; every problem reported at once; frozen result.

function dir(config?: unknown): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'beep-config-'));
  if (config !== undefined) fs.writeFileSync(path.join(d, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return d;
}

describe('loadConfig', () => {
  test('defaults from BRIEF.md', () => {
    const d = dir();
    const config = loadConfig({}, { BEEP_HOME: d });
    expect(config).toMatchObject({
      dataDir: d,
      gateway: { host: '0.0.0.0', port: 2337 },
      admin: { host: '127.0.0.1', port: 2338 },
      queue: { batchWindowMs: 25, maxBatch: 64, maxInFlight: 4, redeliverAfterMs: 10_000 },
      store: { retentionDays: 7, durability: 'normal' },
      auth: { accessTokenTtlSec: 900, refreshTokenTtlDays: 30, pairingCodeTtlSec: 300 },
      tls: { certDir: path.join(d, 'certs'), minVersion: 'TLSv1.3' },
      cluster: { redisUrl: null, keyPrefix: 'beep:', nodeId: null },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.queue)).toBe(true);
  });

  test('sources.windows: off except on Windows, the database under %LOCALAPPDATA%, enabled and pointed anywhere from the file', () => {
    const d = dir();
    const local = path.join(d, 'Local');
    expect(loadConfig({}, { BEEP_HOME: d, LOCALAPPDATA: local }).sources.windows).toEqual({
      enabled: process.platform === 'win32',
      database: path.join(local, 'Microsoft', 'Windows', 'Notifications', 'wpndatabase.db'),
      pollSec: 2,
    });
    const copy = dir({ sources: { windows: { enabled: true, database: '/tmp/copy-of-wpndatabase.db', pollSec: 0.5 } } });
    expect(loadConfig({}, { BEEP_HOME: copy }).sources.windows).toEqual({ enabled: true, database: '/tmp/copy-of-wpndatabase.db', pollSec: 0.5 });
    expect(() => loadConfig({}, { BEEP_HOME: dir({ sources: { windows: { pollSec: 0 } } }) })).toThrow(/sources\.windows\.pollSec/);
  });

  test('file < env < flags', () => {
    const d = dir({ gateway: { port: 1111 }, admin: { port: 2222 }, log: { level: 'debug' }, queue: { maxBatch: 10 } });
    const config = loadConfig({ adminPort: '4444' }, { BEEP_HOME: d, BEEP_GATEWAY_PORT: '3333', BEEP_ADMIN_PORT: '5555' });
    expect(config.gateway.port).toBe(3333);
    expect(config.admin.port).toBe(4444);
    expect(config.log.level).toBe('debug');
    expect(config.queue.maxBatch).toBe(10);
  });

  test('every error at once, including cross-field ones', () => {
    const d = dir({ queue: { maxBatch: 0, maxInFlight: 'many' }, nonsense: true, store: { durability: 'maybe' } });
    try {
      loadConfig({ logLevel: 'chatty' }, { BEEP_HOME: d, BEEP_ADMIN_PORT: '70000' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).problems.join('\n');
      for (const key of ['queue.maxBatch', 'queue.maxInFlight', 'nonsense', 'store.durability', 'log.level', 'admin.port']) {
        expect(text).toContain(key);
      }
    }
    const clash = dir({ gateway: { port: 4000 }, admin: { port: 4000, host: '0.0.0.0' } });
    expect(() => loadConfig({}, { BEEP_HOME: clash })).toThrow(/must differ/);
  });

  test('a broken file and a bad Redis URL are reported, not ignored; a good one is taken', () => {
    expect(() => loadConfig({}, { BEEP_HOME: dir('{ nope') })).toThrow(/not valid JSON/);
    expect(() => loadConfig({}, { BEEP_HOME: dir('[1]') })).toThrow(/JSON object/);
    expect(loadConfig({}, { BEEP_HOME: dir(), BEEP_REDIS_URL: 'redis://x:6379' }).cluster.redisUrl).toBe('redis://x:6379');
    expect(loadConfig({}, { BEEP_HOME: dir({ cluster: { redisUrl: 'rediss://:pw@h:6380', keyPrefix: 'home:', nodeId: 'desk' } }) }).cluster).toEqual({
      redisUrl: 'rediss://:pw@h:6380',
      keyPrefix: 'home:',
      nodeId: 'desk',
    });
    expect(() => loadConfig({}, { BEEP_HOME: dir(), BEEP_REDIS_URL: 'http://x' })).toThrow(/cluster\.redisUrl/);
    expect(() => loadConfig({}, { BEEP_HOME: dir({ redisUrl: 'redis://x' }) })).toThrow(/redisUrl/);
  });

  test('data directory: flag, BEEP_HOME, XDG_DATA_HOME, home', () => {
    expect(resolveDataDir({ dataDir: '/a' }, { BEEP_HOME: '/b' })).toBe('/a');
    expect(resolveDataDir({}, { BEEP_HOME: '/b', XDG_DATA_HOME: '/c' })).toBe('/b');
    expect(resolveDataDir({}, { XDG_DATA_HOME: '/c' })).toBe('/c/beep');
    expect(resolveDataDir({}, {})).toBe(path.join(os.homedir(), '.local', 'share', 'beep'));
  });
});
