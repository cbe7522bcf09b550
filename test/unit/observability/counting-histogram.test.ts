import client from 'prom-client';
import fc from 'fast-check';
import { CountingHistogram } from '../../../app/observability/counting-histogram';

// The counting histogram stands in for prom-client's Histogram on the delivery path: /metrics
// must read exactly as prom-client would write it for the same observations.

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

async function both(values: number[]): Promise<[string, string]> {
  const ours = new client.Registry();
  const theirs = new client.Registry();
  const counting = new CountingHistogram('x_seconds', 'Help text.', BUCKETS, [ours]);
  const reference = new client.Histogram({ name: 'x_seconds', help: 'Help text.', buckets: BUCKETS, registers: [theirs] });
  counting.observeAll(values);
  for (const v of values) reference.observe(v);
  return [await ours.metrics(), await theirs.metrics()];
}

describe('CountingHistogram', () => {
  test('its exposition is prom-client Histogram exposition, byte for byte (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.double({ min: 0, max: 20, noNaN: true }), { maxLength: 200 }), async (values) => {
        const [ours, theirs] = await both(values);
        expect(ours).toBe(theirs);
      }),
      { numRuns: 100 },
    );
  });

  test('values on a bucket bound count in that bucket; an empty one still shows every bucket at 0', async () => {
    const [ours, theirs] = await both([0.005, 0.01, 10, 11]);
    expect(ours).toBe(theirs);
    expect(ours).toContain('x_seconds_bucket{le="0.005"} 1');
    expect(ours).toContain('x_seconds_bucket{le="+Inf"} 4');
    const [empty, emptyTheirs] = await both([]);
    expect(empty).toContain('x_seconds_count 0');
    expect(empty.split('\n').filter((l) => l.startsWith('x_seconds_bucket')).length).toBe(BUCKETS.length + 1);
    expect(emptyTheirs).toContain('x_seconds_count 0');
  });

  test('a value that is not a finite number is not counted', async () => {
    const registry = new client.Registry();
    const h = new CountingHistogram('y', 'h', [1], [registry]);
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(0.5);
    expect(await registry.metrics()).toContain('y_count 1');
  });
});
