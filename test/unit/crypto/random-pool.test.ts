import { RandomPool } from '../../../app/crypto/random-pool';

// Nonces and ids come from a block of OS randomness in disjoint slices: none is handed out twice,
// across refills too, and a request larger than a block still gets fresh bytes.

describe('RandomPool', () => {
  it('never hands out the same slice twice, across many refills', () => {
    const pool = new RandomPool(64);
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) seen.add(pool.bytes(12).toString('hex'));
    expect(seen.size).toBe(5_000);
  });

  it('gives text of the length asked, and bytes past a block from the OS directly', () => {
    const pool = new RandomPool(16);
    expect(pool.text(12, 'base64url')).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(pool.text(8, 'hex')).toMatch(/^[0-9a-f]{16}$/);
    const big = pool.bytes(100);
    expect(big.length).toBe(100);
    expect(big.equals(Buffer.alloc(100))).toBe(false);
  });

  it('does not change a slice already handed out when it refills', () => {
    const pool = new RandomPool(24);
    const first = pool.bytes(12);
    const copy = Buffer.from(first);
    for (let i = 0; i < 10; i++) pool.bytes(12);
    expect(first.equals(copy)).toBe(true);
  });
});
