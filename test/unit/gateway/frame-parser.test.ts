import fc from 'fast-check';
import { defaultParser, frameParser, NotificationsFrame } from '../../../app/gateway/frame-parser';
import type { WireNotification } from '../../../app/domain/notification';

// Encode once must not change a byte: every `notifications` frame the splicing encoder writes is
// exactly what socket.io's default parser writes for the same `{ items }`, and decodes to it.

const EVENT = defaultParser.PacketType.EVENT;

function wire(i: number, extra: Partial<WireNotification> = {}): WireNotification {
  return {
    id: `id-${i}`, title: `Build #${i} "done" \\ ✓ 🎉`, body: 'line one\nline two\t\u2028', app: 'ci', priority: 3, tags: ['a', 'ü'],
    url: null, topic: null, source: 'http', createdAt: '2026-01-01T00:00:00.000Z', ...extra,
  };
}

const encoded = (items: WireNotification[]) => items.map((w) => ({ id: w.id, json: JSON.stringify(w) }));

function bothEncode(items: WireNotification[], id: number | undefined, nsp = '/device') {
  const spliced = new frameParser.Encoder().encode({ type: EVENT, nsp, id, data: ['notifications', new NotificationsFrame(encoded(items))] });
  const plain = new defaultParser.Encoder().encode({ type: EVENT, nsp, id, data: ['notifications', { items }] });
  return { spliced, plain };
}

describe('frame parser', () => {
  it('writes exactly the default parser’s bytes for a notifications frame, with and without an ack id', () => {
    const items = [wire(1), wire(2, { replaces: 'id-1', icon: 'dialog-information', markdown: true, topic: 'alerts', url: 'https://example.org/?a=1&b=2' })];
    for (const id of [0, 7, 12345, undefined]) {
      const { spliced, plain } = bothEncode(items, id);
      expect(spliced).toEqual(plain);
    }
    expect(bothEncode([], 3).spliced).toEqual(bothEncode([], 3).plain);
    expect(bothEncode(items, 3, '/').spliced).toEqual(bothEncode(items, 3, '/').plain);
    expect(bothEncode([wire(1)], 42).spliced).toEqual(['2/device,42["notifications",{"items":[' + JSON.stringify(wire(1)) + ']}]']);
  });

  it('property: any items, any ack id: same bytes, and the default decoder reads back the items', () => {
    const item = fc.record({
      id: fc.string({ minLength: 1, maxLength: 64 }), title: fc.string({ unit: 'binary', maxLength: 40 }), body: fc.string({ unit: 'binary', maxLength: 200 }),
      app: fc.string(), priority: fc.integer({ min: 1, max: 5 }), tags: fc.array(fc.string(), { maxLength: 3 }), url: fc.option(fc.webUrl(), { nil: null }),
      topic: fc.option(fc.string(), { nil: null }), source: fc.constant('http'), createdAt: fc.constant('2026-01-01T00:00:00.000Z'),
    }) as fc.Arbitrary<WireNotification>;
    fc.assert(
      fc.property(fc.array(item, { maxLength: 8 }), fc.option(fc.nat(), { nil: undefined }), (items, id) => {
        const { spliced, plain } = bothEncode(items, id);
        expect(spliced).toEqual(plain);
        const decoder = new defaultParser.Decoder();
        let decoded: { data?: unknown; id?: number } | undefined;
        decoder.on('decoded', (p) => void (decoded = p));
        decoder.add(spliced[0] as string);
        expect(decoded!.data).toEqual(['notifications', { items }]);
        expect(decoded!.id).toBe(id);
      }),
      { numRuns: 300 },
    );
  });

  it('leaves every other packet to the default encoder, and the frame serialises the same way elsewhere', () => {
    const encoder = new frameParser.Encoder();
    const others = [
      { type: EVENT, nsp: '/device', data: ['dismissed', { ids: ['a'] }] },
      { type: EVENT, nsp: '/device', id: 3, data: ['notifications', { items: [wire(1)] }] },
      { type: defaultParser.PacketType.ACK, nsp: '/device', id: 9, data: [{ ok: true }] },
      { type: defaultParser.PacketType.CONNECT, nsp: '/device', data: { sid: 'x' } },
      { type: EVENT, nsp: '/device', data: ['bin', Buffer.from([1, 2])] },
    ];
    for (const packet of others) expect(encoder.encode({ ...packet })).toEqual(new defaultParser.Encoder().encode({ ...packet }));
    expect(JSON.stringify(new NotificationsFrame(encoded([wire(1)])))).toBe(JSON.stringify({ items: [wire(1)] }));
  });
});
