import Database from 'better-sqlite3';
import fc from 'fast-check';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RedisApiTokens } from '../../app/cluster/redis-api-tokens';
import { RedisDeviceAccounts } from '../../app/cluster/redis-device-accounts';
import { RedisDeviceAdmin } from '../../app/cluster/redis-device-admin';
import { RedisOutbox } from '../../app/cluster/redis-outbox';
import type { ApiTokenStore } from '../../app/compat/api-tokens';
import type { DeviceRecord } from '../../app/domain/device';
import type { DirectoryStore } from '../../app/gateway/device-directory';
import type { Outbox } from '../../app/ingest/ingest-service';
import { ApiTokenRepository } from '../../app/store/api-token-repository';
import { SqliteApiTokens } from '../../app/store/api-token-store';
import { CredentialRepository } from '../../app/store/credential-repository';
import { migrate } from '../../app/store/database';
import { DeviceAccounts } from '../../app/store/device-accounts';
import { DeviceAdmin } from '../../app/store/device-admin';
import { DeviceRepository } from '../../app/store/device-repository';
import { GroupWriter } from '../../app/store/group-writer';
import { NotificationRepository } from '../../app/store/notification-repository';
import { ReadPool } from '../../app/store/read-pool';
import { SqliteOutbox } from '../../app/store/sqlite-outbox';
import { input, realSealer, useRedis } from './fixtures';

// The Redis account ports answer exactly what the SQLite ones do, for random sequences of
// operations applied to both (fast-check; a failure prints the smallest sequence): pairing
// codes made (some expired, some offering history) and spent, notifications appended (the seq a
// device pairs at) and dismissed, refresh tokens rotated and replayed, devices renamed, filtered
// and revoked, http-action lookups, pairing history taken; API tokens made (Gotify lineages,
// applications), updated, revoked, touched and looked up. Times (pairedAt, createdAt) differ by
// nature and are left out of the comparison.

const WORKER = path.resolve(__dirname, '..', '..', 'dist', 'app', 'store', 'read-worker.js');
const sealer = realSealer();
const noop = () => undefined;
const hash = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

const fixture = useRedis({ flush: false });

type Op =
  | { op: 'code'; expired: boolean; offers: boolean }
  | { op: 'pair'; code: number; topics: string[] | null; history: boolean }
  | { op: 'append'; topic: string | null }
  | { op: 'dismiss'; n: number }
  | { op: 'rotate'; token: number }
  | { op: 'revoke' | 'history'; device: number }
  | { op: 'rename'; device: number; name: string }
  | { op: 'topics'; device: number; topics: string[] | null }
  | { op: 'action'; device: number; n: number }
  | { op: 'apiInsert'; kind: 'publish' | 'subscribe'; parent: number | null; app: boolean }
  | { op: 'apiRevoke' | 'apiLookup' | 'apiTouch'; token: number }
  | { op: 'apiUpdate'; token: number; name: string; priority: number | null };

const topicsArb = fc.option(fc.uniqueArray(fc.constantFrom('a', 'b'), { maxLength: 2 }), { nil: null });
const index = fc.integer({ min: 0, max: 20 });
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('code' as const), expired: fc.boolean(), offers: fc.boolean() }),
  fc.record({ op: fc.constant('pair' as const), code: index, topics: topicsArb, history: fc.boolean() }),
  fc.record({ op: fc.constant('append' as const), topic: fc.constantFrom(null, 'a', 'b') }),
  fc.record({ op: fc.constant('dismiss' as const), n: index }),
  fc.record({ op: fc.constant('rotate' as const), token: index }),
  fc.record({ op: fc.constantFrom('revoke' as const, 'history' as const), device: index }),
  fc.record({ op: fc.constant('rename' as const), device: index, name: fc.constantFrom('x', 'y') }),
  fc.record({ op: fc.constant('topics' as const), device: index, topics: topicsArb }),
  fc.record({ op: fc.constant('action' as const), device: index, n: index }),
  fc.record({ op: fc.constant('apiInsert' as const), kind: fc.constantFrom('publish' as const, 'subscribe' as const), parent: fc.option(index, { nil: null }), app: fc.boolean() }),
  fc.record({ op: fc.constantFrom('apiRevoke' as const, 'apiLookup' as const, 'apiTouch' as const), token: index }),
  fc.record({ op: fc.constant('apiUpdate' as const), token: index, name: fc.constantFrom('p', 'q'), priority: fc.option(fc.integer({ min: 0, max: 10 }), { nil: null }) }),
);

interface Side {
  accounts: DeviceAccounts | RedisDeviceAccounts;
  admin: DirectoryStore & { nameOf(id: string): Promise<string | undefined> };
  tokens: ApiTokenStore;
  outbox: Outbox & { dismiss(id: string, by: string | null): Promise<unknown> };
  close(): Promise<void>;
}

function sqlite(): Side {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'beep-accounts-parity-')), 'beep.db');
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  migrate(db);
  const writer = new GroupWriter(db, { maxOps: 100, windowMs: 0, lockWaitMs: 3_000, maxQueued: 1_000 });
  const pool = new ReadPool({ file, size: 1, idleMs: 0, workerFile: WORKER });
  const notifications = new NotificationRepository(db, pool, sealer);
  const repos = { devices: new DeviceRepository(db, sealer), credentials: new CredentialRepository(db), notifications };
  return {
    accounts: new DeviceAccounts(writer, repos, 5),
    admin: new DeviceAdmin(writer, repos),
    tokens: new SqliteApiTokens(writer, new ApiTokenRepository(db)),
    outbox: new SqliteOutbox(writer, notifications),
    close: async () => {
      await pool.close();
      db.close();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    },
  };
}

async function redisSide(): Promise<Side> {
  await fixture.redis.flushall();
  return {
    accounts: new RedisDeviceAccounts(fixture.redis, fixture.keys, sealer, 5),
    admin: new RedisDeviceAdmin(fixture.redis, fixture.keys, sealer),
    tokens: new RedisApiTokens(fixture.redis, fixture.keys),
    outbox: new RedisOutbox(fixture.redis, fixture.keys, sealer, 3_600),
    close: async () => undefined,
  };
}

/** A device record without its pairing time. */
function plain(d: DeviceRecord | undefined | null): unknown {
  if (!d) return d ?? null;
  const { pairedAt: _at, revokedAt, ...rest } = d;
  return { ...rest, revoked: revokedAt !== null };
}

/** An API token without its times. */
function plainToken<T extends { createdAt: string; lastUsedAt: string | null; revokedAt?: string | null }>(t: T | undefined): unknown {
  if (!t) return null;
  const { createdAt: _c, lastUsedAt, revokedAt, ...rest } = t;
  return { ...rest, used: lastUsedAt !== null, revoked: revokedAt != null };
}

/** Applies the operations; the answers, one per operation, in comparable form. */
async function run(side: Side, ops: Op[]): Promise<unknown[]> {
  const codes: string[] = [];
  const devices: string[] = [];
  const refresh: string[] = [];
  const notes: string[] = [];
  const tokens: { id: number; secret: string }[] = [];
  const pick = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
  const out: unknown[] = [];
  for (const [i, o] of ops.entries()) {
    switch (o.op) {
      case 'code': {
        codes.push(`code-${i}`);
        await side.accounts.createPairingCode(hash(`code-${i}`), Date.now() + (o.expired ? -1_000 : 60_000), o.offers);
        out.push('code');
        break;
      }
      case 'pair': {
        const code = pick(codes, o.code) ?? 'none';
        const secret = `refresh-${i}`;
        const d = await side.accounts.pairDevice(hash(code), { id: `d${i}`, name: `phone ${i}`, platform: 'android', refreshHash: hash(secret), family: `f${i}`, refreshExpiresMs: Date.now() + 86_400_000, topics: o.topics, historyHours: o.history ? 24 : null });
        if (d) {
          devices.push(d.id);
          refresh.push(secret);
        }
        out.push(d ? { ...(plain(d) as object), historyOffered: d.historyOffered } : null);
        break;
      }
      case 'append': {
        notes.push(`n${i}`);
        await side.outbox.append(input({ title: `t${i}`, topic: o.topic }), `n${i}`, noop);
        out.push('append');
        break;
      }
      case 'dismiss': {
        const n = pick(notes, o.n);
        out.push(n ? Boolean(await side.outbox.dismiss(n, null)) : null);
        break;
      }
      case 'rotate': {
        const secret = pick(refresh, o.token);
        if (!secret) {
          out.push(null);
          break;
        }
        const next = `refresh-${i}`;
        const outcome = await side.accounts.rotateRefreshToken(hash(secret), hash(next), Date.now() + 86_400_000);
        if (outcome.kind === 'rotated') refresh.push(next);
        out.push(outcome);
        break;
      }
      case 'revoke':
      case 'history':
      case 'rename':
      case 'topics':
      case 'action': {
        const d = pick(devices, o.device);
        if (!d) {
          out.push(null);
          break;
        }
        if (o.op === 'revoke') out.push(await side.admin.revokeDevice(d));
        if (o.op === 'history') out.push((await side.accounts.takePairingHistory(d, 3)).map((n) => [n.seq, n.title]));
        if (o.op === 'rename') out.push(await side.admin.renameDevice(d, o.name));
        if (o.op === 'topics') out.push(await side.admin.setDeviceTopics(d, o.topics));
        if (o.op === 'action') {
          const n = pick(notes, o.n);
          out.push(n ? ((await side.accounts.notificationForDevice(d, n))?.title ?? null) : null);
        }
        out.push(plain(await side.accounts.device(d)), await side.admin.nameOf(d));
        break;
      }
      case 'apiInsert': {
        const parent = o.parent === null ? undefined : pick(tokens, o.parent);
        const secret = `api-${i}`;
        const by = parent ? { origin: 'gotify_client' as const, parentId: parent.id } : { origin: 'admin' as const, parentId: null };
        const app = o.app ? { description: `app ${i}`, defaultPriority: 4, topicOf: (id: number) => `app-${id}` } : undefined;
        const t = await side.tokens.insertApiToken(hash(secret), o.kind, `token ${i}`, o.app ? null : ['a'], by, app);
        if (t) tokens.push({ id: t.id, secret });
        out.push(plainToken(t));
        break;
      }
      case 'apiRevoke':
      case 'apiLookup':
      case 'apiTouch':
      case 'apiUpdate': {
        const t = pick(tokens, o.token);
        if (!t) {
          out.push(null);
          break;
        }
        if (o.op === 'apiRevoke') out.push(await side.tokens.revokeApiToken(t.id));
        if (o.op === 'apiTouch') out.push(await side.tokens.touchApiToken(t.id, Date.now()));
        if (o.op === 'apiUpdate') out.push(plainToken(await side.tokens.updateApplication(t.id, { name: o.name, description: 'd', defaultPriority: o.priority })));
        out.push(plainToken(await side.tokens.apiTokenByHash(hash(t.secret))));
        break;
      }
    }
  }
  out.push((await side.admin.activeDevices()).map(plain), (await side.tokens.listApiTokens()).map(plainToken));
  return out;
}

test('device accounts, the directory and API tokens: Redis answers what SQLite answers', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60, size: 'medium' }), async (ops) => {
      const lite = sqlite();
      const redis = await redisSide();
      try {
        expect(await run(redis, ops)).toEqual(await run(lite, ops));
      } finally {
        await lite.close();
      }
    }),
    { numRuns: 100 },
  );
});
