import { checkDurability, versionAtLeast } from '../../app/cluster/redis-checks';
import { createCertificateAuthority, issueServerCertificate } from '../../app/crypto/certificate-authority';
import { openRedis, parseRedisUrl, type RedisConnectionOptions } from '../../app/cluster/redis-connection';
import { RedisServer } from '../helpers/redis-server';

// Opening Redis for cluster mode against real redis-servers: each start-up check refuses what
// would lose data silently (eviction, Redis Cluster, "full" durability without fsync always), a
// URL leaving the machine without a password is refused before connecting, an ACL that hides
// CONFIG is warned about, and a command fails (never hangs) while Redis is down, then the
// connection recovers by itself.

function options(url: string, extra: Partial<RedisConnectionOptions> = {}): RedisConnectionOptions {
  return { url, prefix: 'beep:', durability: 'normal', commandTimeoutMs: 2_000, connectTimeoutMs: 5_000, maxRetriesPerRequest: 1, ...extra };
}

/** Opens with a warning collector; the connection is closed after `use`. */
async function opened(url: string, extra: Partial<RedisConnectionOptions> = {}): Promise<string[]> {
  const warnings: string[] = [];
  const conn = await openRedis(options(url, extra), (m) => warnings.push(m));
  await conn.close();
  return warnings;
}

/** Starts a server with `config`, runs `body`, stops it. */
async function withServer<T>(config: Record<string, string>, body: (server: RedisServer) => Promise<T>, lines?: string[]): Promise<T> {
  const server = await RedisServer.start({ config, lines });
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}

describe('the URL, before connecting', () => {
  test('a non-loopback URL without a password is refused; loopback, or with a password, is not; rediss:// means TLS', () => {
    expect(() => parseRedisUrl('redis://10.0.0.5:6379')).toThrow(/not a loopback address and the URL has no password/);
    expect(() => parseRedisUrl('redis://beep@redis.lan:6379')).toThrow(/no password/);
    expect(parseRedisUrl('redis://:pw@redis.lan:6379')).toEqual({ tls: false, loopback: false });
    expect(parseRedisUrl('rediss://beep:pw@redis.lan:6380')).toEqual({ tls: true, loopback: false });
    expect(parseRedisUrl('redis://127.0.0.1:6379')).toEqual({ tls: false, loopback: true });
    expect(parseRedisUrl('redis://[::1]:6379').loopback).toBe(true);
    expect(parseRedisUrl('redis://localhost').loopback).toBe(true);
    expect(() => parseRedisUrl('http://127.0.0.1:6379')).toThrow(/redis:\/\/ or rediss:\/\//);
    expect(() => parseRedisUrl('not a url')).toThrow(/not a URL/);
  });

  test('versions: 6.2 and later pass', () => {
    expect(versionAtLeast('7.0.15', '6.2.0')).toBe(true);
    expect(versionAtLeast('6.2.0', '6.2.0')).toBe(true);
    expect(versionAtLeast('6.0.16', '6.2.0')).toBe(false);
    expect(versionAtLeast('5.0.14', '6.2.0')).toBe(false);
  });
});

describe('start-up checks against a real redis-server', () => {
  test('the documented default (AOF everysec, noeviction) opens without a warning', async () => {
    await withServer({}, async (server) => expect(await opened(server.url)).toEqual([]));
  });

  test('maxmemory-policy allkeys-lru is refused', async () => {
    await withServer({ 'maxmemory-policy': 'allkeys-lru' }, async (server) => {
      await expect(opened(server.url)).rejects.toThrow(/maxmemory-policy is "allkeys-lru": it must be "noeviction"/);
    });
  });

  test('Redis Cluster is refused', async () => {
    await withServer({ 'cluster-enabled': 'yes' }, async (server) => {
      await expect(opened(server.url)).rejects.toThrow(/Redis Cluster is not supported/);
    });
  });

  test('durability "full" needs appendfsync always; "normal" only warns when the AOF is off', async () => {
    await withServer({}, async (server) => {
      await expect(opened(server.url, { durability: 'full' })).rejects.toThrow(/"full" requires Redis "appendonly yes" and "appendfsync always".*appendfsync everysec/);
    });
    await withServer({ appendfsync: 'always' }, async (server) => expect(await opened(server.url, { durability: 'full' })).toEqual([]));
    await withServer({ appendonly: 'no' }, async (server) => {
      expect(await opened(server.url)).toEqual([expect.stringMatching(/"appendonly no": a Redis restart loses/)]);
      await expect(opened(server.url, { durability: 'full' })).rejects.toThrow(/appendonly no/);
    });
  });

  test('the durability re-check at run time sees a CONFIG SET made after start', async () => {
    await withServer({ appendfsync: 'always' }, async (server) => {
      const conn = await openRedis(options(server.url, { durability: 'full' }), () => undefined);
      try {
        await conn.redis.config('SET', 'appendfsync', 'everysec');
        await expect(checkDurability(conn.redis, 'full', () => undefined)).rejects.toThrow(/appendfsync everysec/);
      } finally {
        await conn.close();
      }
    });
  });

  test('an ACL user denied CONFIG: warned, start goes on (the policy is still read from INFO)', async () => {
    const lines = ['user default off', 'user beep on >acl-pass ~* &* +@all -config'];
    await withServer({}, async (server) => {
      const url = `redis://beep:acl-pass@127.0.0.1:${server.port}`;
      expect(await opened(url)).toEqual([expect.stringMatching(/CONFIG GET denied by an ACL/)]);
    }, lines);
    await withServer({ 'maxmemory-policy': 'volatile-lru' }, async (server) => {
      await expect(opened(`redis://beep:acl-pass@127.0.0.1:${server.port}`)).rejects.toThrow(/volatile-lru/);
    }, lines);
  });

  test('a wrong password or no server: a clear refusal, not a hang', async () => {
    const server = await RedisServer.start({ password: 'right-pass' });
    try {
      await expect(opened(`redis://:wrong-pass@127.0.0.1:${server.port}`)).rejects.toThrow(/Redis refused for cluster mode: cannot connect: WRONGPASS/);
      expect(await opened(server.url)).toEqual([]);
    } finally {
      await server.stop();
    }
    await expect(opened(`redis://127.0.0.1:${server.port}`)).rejects.toThrow(/cannot connect: .*ECONNREFUSED/);
  });
});

test('rediss:// works with the CA given, and an untrusted certificate is refused', async () => {
  const ca = await createCertificateAuthority('redis-test', new Date());
  const cert = await issueServerCertificate(ca, { hostnames: ['localhost'], addresses: ['127.0.0.1'] }, new Date());
  const server = await RedisServer.start({ tls: cert, password: 'tls-pass' });
  try {
    expect(server.url).toMatch(/^rediss:\/\/:tls-pass@localhost:/);
    expect(await opened(server.url, { tlsCa: ca.certPem })).toEqual([]);
    await expect(opened(server.url)).rejects.toThrow(/cannot connect: .*(self[- ]signed|unable to (get|verify))/i);
    await expect(opened(server.url.replace('rediss:', 'redis:'))).rejects.toThrow(/cannot connect/);
  } finally {
    await server.stop();
  }
});

test('while Redis is down a command fails instead of waiting; the connection comes back by itself', async () => {
  const server = await RedisServer.start();
  const conn = await openRedis(options(server.url), () => undefined);
  try {
    await conn.redis.set('k', 'v');
    await server.kill9();
    await expect(conn.redis.get('k')).rejects.toThrow();
    await server.restart();
    const deadline = Date.now() + 20_000;
    let answer: string | null | undefined;
    while (Date.now() < deadline && answer === undefined) {
      answer = await conn.redis.get('k').catch(() => undefined);
      if (answer === undefined) await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe('v'); // everysec: a write older than a second was on disk
  } finally {
    await conn.close();
    await server.stop();
  }
});
