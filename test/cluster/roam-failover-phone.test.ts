/// <reference lib="dom" />
import https from 'node:https';
import type { Browser, Page } from 'playwright-core';
import Redis from 'ioredis';
import { NodeRegistry } from '../../app/cluster/node-registry';
import { RedisKeys } from '../../app/cluster/redis-keys';
import { REDIS_KEY_PREFIX } from '../../app/config/defaults';
import { startDaemon, type RunningDaemon } from '../helpers/daemon';
import { launchPhoneBrowser, phoneContext, watchProblems } from '../helpers/browser';
import { RedisServer } from '../helpers/redis-server';
import { nodeConfig, post, startPair, type NodePair } from './two-nodes';

// The phone web app follows the cluster ([roam]) in headless Chromium: paired from A's link (the
// page's origin is A), it keeps receiving through B when A is killed (kill -9) and says so in its
// status line; once A is started again on its address it goes back to A. The page reaches B from
// A's origin (CSP connect-src, the handshake's Origin check and the CA pin all cover the cluster's
// nodes), and no Content Security Policy violation is reported on the way.

jest.setTimeout(300_000);

const DEADLINE_MS = Number(process.env.ROAM_DEADLINE_MS ?? 120_000);

let redis: RedisServer;
let nodes: NodePair;
let client: Redis;
let browser: Browser;
let restartedA: RunningDaemon | undefined;

beforeAll(async () => {
  redis = await RedisServer.start();
  client = new Redis(redis.url);
  // Access tokens live 30 s (the minimum), so the page refreshes through B (cross-origin) while A is dead.
  nodes = await startPair(redis, 0, nodeConfig({ auth: { accessTokenTtlSec: 30 } }));
  browser = await launchPhoneBrowser(nodes.a.caPem);
});

afterAll(async () => {
  await browser?.close();
  client?.disconnect();
  for (const node of [nodes?.a, nodes?.b, restartedA]) if (node && node.proc.exitCode === null) await node.kill();
  await redis?.stop();
});

const nodeId = (d: RunningDaemon) => (d.runtime as unknown as { nodeId: string }).nodeId;

/** Polls an asynchronous predicate. */
async function until(predicate: () => Promise<boolean>, what: string, timeoutMs = DEADLINE_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const connectedThrough = (page: Page, id: string) =>
  page.waitForFunction((node) => {
    const conn = document.getElementById('conn')!;
    return conn.dataset.state === 'connected' && conn.dataset.node === node && document.getElementById('conn-text')!.textContent === `Connected through ${node}`;
  }, id, { timeout: DEADLINE_MS });

/** The Content-Security-Policy the node's phone page is served with. */
function pageCsp(node: RunningDaemon): Promise<string> {
  return new Promise((resolve, reject) => {
    https
      .get(`${node.gatewayUrl}/`, { ca: node.caPem }, (res) => {
        res.resume();
        resolve(String(res.headers['content-security-policy'] ?? ''));
      })
      .on('error', reject);
  });
}

const waitShown = (page: Page, id: string) => page.waitForSelector(`#list .item[data-id="${id}"]`, { timeout: DEADLINE_MS });

const storedCredentials = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ refreshToken: string }>((resolve, reject) => {
        const open = indexedDB.open('beep');
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('credentials');
          get.onsuccess = () => resolve(get.result);
          get.onerror = () => reject(get.error);
        };
      }),
  );

const storedNodes = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<{ url: string; id: string }[]>((resolve, reject) => {
        const open = indexedDB.open('beep');
        open.onsuccess = () => {
          const get = open.result.transaction('kv').objectStore('kv').get('nodes');
          get.onsuccess = () => resolve(get.result);
          get.onerror = () => reject(get.error);
        };
      }),
  );

test('paired through A, the page receives through B while A is dead, shows B, and returns to A', async () => {
  const { a, b } = nodes;
  const registry = new NodeRegistry(client, new RedisKeys(REDIS_KEY_PREFIX), 'test-observer', 60_000);
  const holder = async (deviceId: string) => (await registry.holders([deviceId])).get(deviceId);

  // A page names the nodes its node knew when it was served (connect-src): B, once A's heartbeat has read it.
  await until(async () => (await pageCsp(a)).includes(`wss://localhost:${b.runtime.gatewayPort}`), "A's page naming B");
  const link = await a.admin('POST', '/api/v1/pairings');
  expect(link.status).toBe(201);
  const context = await phoneContext(browser);
  context.setDefaultTimeout(DEADLINE_MS);
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(link.body.url);
  await page.waitForSelector('#view-pair:not([hidden])');
  await page.click('#pair-submit');
  await connectedThrough(page, nodeId(a));
  // The pairing answer's node list is kept in IndexedDB with the credentials.
  expect((await storedNodes(page)).map((n) => n.url).sort()).toEqual([a.gatewayUrl, b.gatewayUrl].sort());
  const [device] = (await a.admin('GET', '/api/v1/devices')).body as { id: string }[];
  await until(async () => (await holder(device.id)) === nodeId(a), 'A holding the lease');

  const first = `roam-1-${Date.now()}`;
  expect((await post(a, { id: first, title: 'before the kill' })).status).toBe(202);
  await waitShown(page, first);

  // A dies: the page (still A's origin) moves to B, says so, and what is posted on B arrives.
  const gatewayPortA = a.runtime.gatewayPort;
  await a.kill();
  await connectedThrough(page, nodeId(b));
  await until(async () => (await holder(device.id)) === nodeId(b), 'B holding the lease');
  const second = `roam-2-${Date.now()}`;
  expect((await post(b, { id: second, title: 'while A is dead' })).status).toBe(202);
  await waitShown(page, second);
  const onB = (await storedCredentials(page)).refreshToken;
  await until(async () => (await storedCredentials(page)).refreshToken !== onB, 'a token refresh through B');
  expect(a.proc.signalCode).toBe('SIGKILL');

  // A is back on its address: the page's probe finds it and it moves back.
  restartedA = await startDaemon({ dataDir: a.dataDir, env: { BEEP_REDIS_URL: redis.url, BEEP_LOG_LEVEL: 'info', BEEP_GATEWAY_PORT: String(gatewayPortA) } });
  await connectedThrough(page, nodeId(a));
  await until(async () => (await holder(device.id)) === nodeId(a), 'A holding the lease again');
  const third = `roam-3-${Date.now()}`;
  expect((await post(b, { id: third, title: 'after A returned' })).status).toBe(202);
  await waitShown(page, third);

  // Each shown once; no CSP violation on the way to B and back.
  const shown = await page.$$eval('#list .item', (items) => items.map((i) => (i as HTMLElement).dataset.id!));
  for (const id of [first, second, third]) expect(shown.filter((s) => s === id)).toHaveLength(1);
  expect(problems).toEqual([]);
  await context.close();
});
