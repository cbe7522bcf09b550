import { CertificateRenewer, type RenewerDeps } from '../../../app/crypto/certificate-renewer';
import type { TlsMaterial } from '../../../app/crypto/certificates';

// The renewer's decisions with a fake clock: daily check, address change, forced renewal.

function material(n: number): TlsMaterial {
  return { caCertPem: 'ca', certPem: `cert-${n}`, keyPem: `key-${n}`, caFingerprint: 'fp', notAfter: new Date(n), subjectAltNames: [], caNameConstrained: true, leftOutNames: [] };
}

function harness() {
  const intervals: { fn: () => void; ms: number }[] = [];
  let addresses = ['192.168.1.2'];
  let due = false;
  let serial = 1;
  const applied: TlsMaterial[] = [];
  const loads: boolean[] = [];
  const events: string[] = [];
  const rotated: { fingerprint: string; previous: string }[] = [];
  const followed: { fingerprint: string; previous: string }[] = [];
  const expected: string[] = [];
  const deps: RenewerDeps = {
    rotate: async (fingerprint) => {
      expected.push(fingerprint);
      events.push('rotate');
      return { ...material(++serial), caFingerprint: `fp-${serial}`, issued: true };
    },
    onRotated: (m, previous) => rotated.push({ fingerprint: m.caFingerprint, previous }),
    onFollowed: (m, previous) => followed.push({ fingerprint: m.caFingerprint, previous }),
    load: async (force) => {
      loads.push(force);
      events.push('load:start');
      await Promise.resolve(); // yields, so an operation that did not wait would interleave here
      events.push('load:end');
      if (force || due) {
        due = false;
        return { ...material(++serial), issued: true };
      }
      return { ...material(serial), issued: false };
    },
    apply: (m) => applied.push(m),
    addresses: () => addresses,
    setInterval: (fn, ms) => {
      intervals.push({ fn, ms });
      return {};
    },
    clearInterval: () => undefined,
  };
  const renewer = new CertificateRenewer(material(1), deps, { checkEveryMs: 86_400_000, addressPollMs: 60_000 });
  renewer.start();
  const tick = (ms: number) => intervals.filter((i) => i.ms === ms).forEach((i) => i.fn());
  return {
    renewer,
    applied,
    loads,
    events,
    rotated,
    followed,
    expected,
    tick,
    setAddresses: (a: string[]) => (addresses = a),
    makeDue: () => (due = true),
  };
}

const flush = () => new Promise((r) => setImmediate(r));

test('the daily check reissues only when the certificate is due, and swaps it in', async () => {
  const h = harness();
  h.tick(86_400_000);
  await flush();
  expect(h.applied).toHaveLength(0);
  h.makeDue();
  h.tick(86_400_000);
  await flush();
  expect(h.applied.map((m) => m.certPem)).toEqual(['cert-2']);
  expect(h.renewer.current.certPem).toBe('cert-2');
});

test('a changed address set triggers a check at once; an unchanged one costs nothing', async () => {
  const h = harness();
  h.tick(60_000);
  await flush();
  expect(h.loads).toEqual([]);
  h.setAddresses(['192.168.1.2', '10.0.0.7']);
  h.makeDue(); // the stored cert no longer covers every name, so load() issues
  h.tick(60_000);
  await flush();
  expect(h.loads).toEqual([false]);
  expect(h.applied).toHaveLength(1);
  h.tick(60_000);
  await flush();
  expect(h.loads).toHaveLength(1);
});

test('a forced renewal always issues; concurrent calls share one run', async () => {
  const h = harness();
  const [a, b] = await Promise.all([h.renewer.check('forced'), h.renewer.check('forced')]);
  expect(a).toBe(b);
  expect(h.loads).toEqual([true]);
  expect(h.applied).toHaveLength(1);
});

test('a CA rotation swaps the new chain in, after a renewal under way, never interleaved with it', async () => {
  const h = harness();
  const renewal = h.renewer.check('forced');
  const rotation = h.renewer.rotateAuthority();
  await Promise.all([renewal, rotation]);
  expect(h.events).toEqual(['load:start', 'load:end', 'rotate']);
  expect(h.renewer.current.caFingerprint).toBe('fp-3');
  expect(h.applied.map((m) => m.certPem)).toEqual(['cert-2', 'cert-3']);
  expect(h.rotated).toEqual([{ fingerprint: 'fp-3', previous: 'fp' }]);
  // A check after the rotation runs on its own and sees the rotated material.
  await h.renewer.check('forced');
  expect(h.events).toEqual(['load:start', 'load:end', 'rotate', 'load:start', 'load:end']);
});

test('a rotation is told the CA it replaces: the one the caller saw, else the one served', async () => {
  const h = harness();
  await h.renewer.rotateAuthority('fp-seen');
  await h.renewer.rotateAuthority();
  expect(h.expected).toEqual(['fp-seen', 'fp-2']);
});

test('following the cluster\'s CA swaps in what adopt loads, after a rotation under way; nothing when adopt finds the served CA current', async () => {
  const h = harness();
  const seen: string[] = [];
  const rotation = h.renewer.rotateAuthority();
  const follow = h.renewer.followAuthority(async (served) => {
    seen.push(served);
    h.events.push('adopt');
    return { ...material(9), caFingerprint: 'fp-cluster', issued: true };
  });
  await Promise.all([rotation, follow]);
  expect(seen).toEqual(['fp-2']);
  expect(h.events).toEqual(['rotate', 'adopt']);
  expect(h.renewer.current).toMatchObject({ caFingerprint: 'fp-cluster', certPem: 'cert-9' });
  expect(h.followed).toEqual([{ fingerprint: 'fp-cluster', previous: 'fp-2' }]);
  expect(h.rotated).toEqual([{ fingerprint: 'fp-2', previous: 'fp' }]);
  // The served CA is the cluster's: nothing is swapped, nothing reported.
  await h.renewer.followAuthority(async () => null);
  expect(h.applied.map((m) => m.certPem)).toEqual(['cert-2', 'cert-9']);
  expect(h.followed).toHaveLength(1);
});
