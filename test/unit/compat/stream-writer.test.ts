import { StreamWriter, type StreamTransport } from '../../../app/compat/stream-writer';

// The StreamWriter owns a subscriber stream's timers and is the only thing that writes to it:
// after a close nothing fires and nothing is written; a full stream refuses writes until it
// drains; a stream full for too long is cut; a failed write cuts it (never an unheard error).

function fakeTransport() {
  const sent: { chunk: string; done: (error?: Error | null) => void }[] = [];
  let gone: (() => void) | undefined;
  const calls: string[] = [];
  const transport: StreamTransport = {
    send: (chunk, done) => void sent.push({ chunk, done }),
    end: () => void calls.push('end'),
    destroy: () => void calls.push('destroy'),
    onGone: (listener) => void (gone = listener),
  };
  return { transport, sent, calls, gone: () => gone?.(), flush: () => sent.splice(0).forEach((s) => s.done()) };
}

const LIMITS = { endGraceMs: 5_000, highWaterBytes: 10, stalledCloseMs: 60_000 };

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('closing stops its timers, tells its listeners once, and later writes are no-ops', () => {
  const t = fakeTransport();
  const writer = new StreamWriter(t.transport, LIMITS);
  let ticks = 0;
  let closed = 0;
  writer.every(1_000, () => ticks++);
  writer.onClosed(() => closed++);
  jest.advanceTimersByTime(3_000);
  expect(ticks).toBe(3);
  writer.close();
  writer.close();
  jest.advanceTimersByTime(10_000);
  expect({ ticks, closed, isOpen: writer.isOpen, wrote: writer.write('x') }).toEqual({ ticks: 3, closed: 1, isOpen: false, wrote: false });
  // Ended gracefully, then cut when the tail did not flush within the grace.
  expect(t.calls).toEqual(['end', 'destroy']);
  writer.onClosed(() => closed++);
  expect(closed).toBe(2);
});

test('the connection going away closes the writer (timers too) without ending or cutting it again', () => {
  const t = fakeTransport();
  const writer = new StreamWriter(t.transport, LIMITS);
  let ticks = 0;
  writer.every(1_000, () => ticks++);
  t.gone();
  jest.advanceTimersByTime(10_000);
  expect({ ticks, open: writer.isOpen, calls: t.calls }).toEqual({ ticks: 0, open: false, calls: [] });
});

test('past the high-water mark writes are refused until it drains; drained() waits for it', async () => {
  const t = fakeTransport();
  const writer = new StreamWriter(t.transport, LIMITS);
  expect(writer.write('123456')).toBe(true);
  expect(writer.write('123456')).toBe(true); // 12 bytes pending: full
  expect(writer.full).toBe(true);
  expect(writer.write('x')).toBe(false);
  let drained: boolean | undefined;
  void writer.drained().then((d) => (drained = d));
  await Promise.resolve();
  expect(drained).toBeUndefined();
  t.flush();
  await Promise.resolve();
  expect(drained).toBe(true);
  expect(writer.write('x')).toBe(true);
});

test('a stream full for stalledCloseMs is cut; one that drains in time is not', () => {
  const t = fakeTransport();
  let stalls = 0;
  const writer = new StreamWriter(t.transport, { ...LIMITS, onStalled: () => stalls++ });
  writer.write('12345678901');
  jest.advanceTimersByTime(59_000);
  t.flush();
  writer.write('12345678901');
  jest.advanceTimersByTime(59_000);
  expect(writer.isOpen).toBe(true);
  jest.advanceTimersByTime(1_000);
  expect({ open: writer.isOpen, stalls, calls: t.calls }).toEqual({ open: false, stalls: 1, calls: ['destroy'] });
});

test('a failed write cuts the stream', () => {
  const t = fakeTransport();
  const writer = new StreamWriter(t.transport, LIMITS);
  writer.write('x');
  t.sent[0].done(new Error('EPIPE'));
  expect({ open: writer.isOpen, calls: t.calls }).toEqual({ open: false, calls: ['destroy'] });
});
