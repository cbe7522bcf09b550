import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import Redis from 'ioredis';
import { RedisCaStore } from '../../app/cluster/redis-ca-store';
import { RedisKeys } from '../../app/cluster/redis-keys';
import { createCertificateAuthority } from '../../app/crypto/certificate-authority';
import { fingerprintOf } from '../../app/crypto/certificates';
import type { RunningDaemon } from '../helpers/daemon';
import { Phone } from '../helpers/phone';
import { post, type NodePair, usePair } from './two-nodes';

// `beep cert rotate-ca` on a cluster node, through two real daemons sharing a redis-server: the
// new CA replaces the cluster's in Redis (under the `ca-rotation` lease) and every node swaps in
// a server certificate under it without a restart (a `ca-rotated` control event, and the
// TRUST_REFRESH_MS check when no event came); the old CA no longer verifies any node, and phones
// pair again through either node with the new pin. Two rotations asked at once give one new CA;
// one asked while another node holds the `ca-rotation` lease is answered 429 and changes nothing.

jest.setTimeout(240_000);

let nodes: NodePair;
let client: Redis;

usePair({ phones: 1 }, (started) => ({ nodes, client } = started));

interface CertStatus { caFingerprint: string; serverFingerprint: string; caNameConstraints: boolean }

const status = async (node: RunningDaemon) => (await node.admin<CertStatus>('GET', '/api/v1/cert')).body;
const caFile = (node: RunningDaemon) => fs.readFileSync(path.join(node.dataDir, 'certs', 'ca.crt'), 'utf8');
/** The node as a phone sees it with `caPem` pinned. */
const pinned = (node: RunningDaemon, caPem: string): RunningDaemon => Object.assign(Object.create(node) as RunningDaemon, { caPem });

/** The certificate the node's gateway serves now (read from a TLS handshake); with `ca`, the handshake must verify against it. */
function served(node: RunningDaemon, ca?: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port: node.runtime.gatewayPort, servername: 'localhost', ...(ca ? { ca } : { rejectUnauthorized: false }) }, () => {
      const cert = socket.getPeerX509Certificate();
      socket.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    socket.once('error', reject);
  });
}

/** Polls until the node's gateway serves a certificate issued and signed by `caPem`. */
async function untilServedUnder(node: RunningDaemon, caPem: string, timeoutMs: number): Promise<X509Certificate> {
  const ca = new X509Certificate(caPem);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const cert = await served(node);
    if (cert.checkIssued(ca) && cert.verify(ca.publicKey)) return cert;
    if (Date.now() > deadline) throw new Error(`the gateway still serves a certificate issued by ${cert.issuer}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const EVENT_LINE = 'the cluster\'s CA was rotated on another node';
const count = (text: string, line: string) => text.split(line).length - 1;

/** Polls until the node's log holds `line` at least `times` times. */
async function untilLogged(node: RunningDaemon, line: string, times: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (count(node.logs(), line) < times) {
    if (Date.now() > deadline) throw new Error(`"${line}" logged ${count(node.logs(), line)} times, not ${times}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const generation = async () => Number((await client.get('beep:trust:ca-generation')) ?? 0);

test('rotate-ca on A: B serves a certificate under the new CA, both nodes report it, the old CA verifies neither; a phone pairs again through B', async () => {
  const { a, b } = nodes;
  const oldCa = a.caPem;
  const before = await status(a);
  expect((await status(b)).caFingerprint).toBe(before.caFingerprint);
  const oldPhone = new Phone(nodes.phones[0]);

  const rotated = await a.cli(['cert', 'rotate-ca', '--yes']);
  expect({ status: rotated.status, err: rotated.stderr }).toEqual({ status: 0, err: expect.stringContaining('every node serves the new one, and phones connected to any node must pair again') });
  expect(rotated.stdout).toContain('every phone must pair again');
  expect(rotated.stdout).toContain('cluster: every node serves a certificate under the new CA');
  const newCa = caFile(a);
  expect(fingerprintOf(newCa)).not.toBe(before.caFingerprint);
  expect(await generation()).toBe(1);

  const onB = await untilServedUnder(b, newCa, 60_000);
  // The control event reached B (the timer is only the safety net; the last test covers it alone).
  await untilLogged(b, EVENT_LINE, 1);
  await untilServedUnder(a, newCa, 10_000);
  // The old CA verifies neither node's certificate: a phone still pinning it cannot reach B.
  const oldCaCert = new X509Certificate(oldCa);
  expect(onB.checkIssued(oldCaCert) && onB.verify(oldCaCert.publicKey)).toBe(false);
  await expect(served(b, oldCa)).rejects.toThrow();
  await expect(served(a, oldCa)).rejects.toThrow();
  await expect(oldPhone.connect(pinned(b, oldCa))).rejects.toBeDefined();
  expect((await served(b, newCa)).fingerprint256).toBe(onB.fingerprint256);

  // `beep cert status` (GET /api/v1/cert) agrees on both nodes; each keeps its own server certificate.
  const [sa, sb] = await Promise.all([status(a), status(b)]);
  expect(sa.caFingerprint).toBe(fingerprintOf(newCa));
  expect(sb.caFingerprint).toBe(sa.caFingerprint);
  expect(sb.caNameConstraints).toBe(true);
  expect(sb.serverFingerprint).not.toBe(sa.serverFingerprint);
  expect(caFile(b)).toBe(newCa);
  const cliStatus = await b.cli(['cert', 'status']);
  expect(cliStatus.stdout).toContain(sa.caFingerprint);
  // B's daemon.json carries the pin `beep listen --code` reads.
  expect(JSON.parse(fs.readFileSync(path.join(b.dataDir, 'daemon.json'), 'utf8')).caFingerprint).toBe(sa.caFingerprint);
  // Audited once, in the cluster's one chain, as the embedded rotate-ca is.
  const audit = (await b.admin<{ event: string; details: Record<string, unknown> }[]>('GET', '/api/v1/audit?limit=500')).body;
  const rotations = audit.filter((e) => e.event === 'certificate_renewed' && e.details.reason === 'ca_rotated');
  expect(rotations.map((e) => e.details)).toEqual([expect.objectContaining({ previous: before.caFingerprint, caFingerprint: sa.caFingerprint })]);

  // A phone pairs again through B, pinning the new CA, and receives what A accepts.
  const phone = await Phone.paired(pinned(b, newCa), 'paired again through B');
  await phone.connect(pinned(b, newCa));
  expect((await post(a, { body: 'after the new CA' })).status).toBe(202);
  await phone.withBody('after the new CA');
  phone.disconnect();
});

test('rotate-ca asked of A and B at once: one new CA (the other answer is retryable or says it changed), served by both', async () => {
  const { a, b } = nodes;
  const [sa, sb] = await Promise.all([status(a), status(b)]);
  expect(sb.caFingerprint).toBe(sa.caFingerprint);
  const generationBefore = await generation();

  const answers = await Promise.all([a, b].map((n) => n.admin<CertStatus & { error?: { code: string } }>('POST', '/api/v1/cert/rotate-ca', { confirm: true, caFingerprint: sa.caFingerprint })));
  const won = answers.filter((r) => r.status === 200);
  const lost = answers.filter((r) => r.status !== 200);
  expect(won).toHaveLength(1);
  expect(lost).toHaveLength(1);
  const refusal = { status: lost[0].status, code: lost[0].body.error?.code };
  expect([{ status: 409, code: 'ca_changed' }, { status: 429, code: 'rate_limited' }]).toContainEqual(refusal);
  if (refusal.status === 429) expect(Number(lost[0].headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await generation()).toBe(generationBefore + 1);

  const winner = won[0].body.caFingerprint;
  expect(winner).not.toBe(sa.caFingerprint);
  for (const node of [a, b]) {
    const caPem = await untilFile(node, winner, 60_000);
    await untilServedUnder(node, caPem, 60_000);
  }
  const [ta, tb] = await Promise.all([status(a), status(b)]);
  expect([ta.caFingerprint, tb.caFingerprint]).toEqual([winner, winner]);
  // Asked again of the old CA, either node refuses at once: it was replaced.
  for (const node of [a, b]) {
    const stale = await node.admin<{ error: { code: string; details: { caFingerprint: string } } }>('POST', '/api/v1/cert/rotate-ca', { confirm: true, caFingerprint: sa.caFingerprint });
    expect({ status: stale.status, code: stale.body.error.code, now: stale.body.error.details.caFingerprint }).toEqual({ status: 409, code: 'ca_changed', now: winner });
  }
  expect(await generation()).toBe(generationBefore + 1);
});

test('while another node holds the ca-rotation lease, rotate-ca answers 429 with Retry-After and changes nothing; once it is free, the retry rotates', async () => {
  const { a, b } = nodes;
  const current = (await status(b)).caFingerprint;
  const generationBefore = await generation();
  await client.set('beep:cluster-lease:ca-rotation', 'another-node:held', 'PX', 60_000);
  const busy = await b.admin<{ error: { code: string } }>('POST', '/api/v1/cert/rotate-ca', { confirm: true, caFingerprint: current });
  expect({ status: busy.status, code: busy.body.error.code }).toEqual({ status: 429, code: 'rate_limited' });
  expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);
  expect(await generation()).toBe(generationBefore);
  expect((await status(b)).caFingerprint).toBe(current);
  expect(await client.get('beep:cluster-lease:ca-rotation')).toBe('another-node:held'); // never taken over nor released by B

  await client.del('beep:cluster-lease:ca-rotation');
  const retried = await b.admin<CertStatus>('POST', '/api/v1/cert/rotate-ca', { confirm: true, caFingerprint: current });
  expect(retried.status).toBe(200);
  expect(await generation()).toBe(generationBefore + 1);
  await untilServedUnder(a, await untilFile(a, retried.body.caFingerprint, 60_000), 60_000);
});

test('a CA replaced in Redis with no control event (a missed message) is swapped in by every node at its TRUST_REFRESH_MS check', async () => {
  const { a, b } = nodes;
  const current = (await status(a)).caFingerprint;
  const eventsBefore = [a, b].map((n) => count(n.logs(), EVENT_LINE));
  const master = fs.readFileSync(path.join(a.dataDir, 'keys', 'master.key'));
  const next = await createCertificateAuthority('localhost', new Date());
  const rotation = await new RedisCaStore(client, new RedisKeys('beep:'), master).rotate(current, next);
  expect(rotation.outcome).toBe('rotated');
  // TRUST_REFRESH_MS is 30 s: both nodes follow within it (generous deadline for a loaded machine).
  for (const node of [a, b]) await untilServedUnder(node, next.certPem, 120_000);
  const [sa, sb] = await Promise.all([status(a), status(b)]);
  expect([sa.caFingerprint, sb.caFingerprint]).toEqual([fingerprintOf(next.certPem), fingerprintOf(next.certPem)]);
  expect(b.logs()).toContain('replaced on another node');
  // No control event carried this one: the TRUST_REFRESH_MS check did.
  expect([a, b].map((n) => count(n.logs(), EVENT_LINE))).toEqual(eventsBefore);
  expect(crypto.createHash('sha256').update(caFile(b)).digest('hex')).toBe(crypto.createHash('sha256').update(next.certPem).digest('hex'));
});

/** Polls until the node's certs/ca.crt is the CA with `fingerprint`; returns its PEM. */
async function untilFile(node: RunningDaemon, fingerprint: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pem = caFile(node);
    if (fingerprintOf(pem) === fingerprint) return pem;
    if (Date.now() > deadline) throw new Error(`certs/ca.crt is still ${fingerprintOf(pem)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
