import { createRequire } from 'node:module';
import type * as SocketIoParser from 'socket.io-parser';
import type { EncodedNotification } from '../delivery/ports';

// Encode once: a notification's JSON is built once (delivery/), and every `notifications` frame
// to every device is spliced from those strings by this socket.io parser (the public `parser`
// server option), with the frame's own ack id. The bytes are exactly what socket.io's default
// parser writes for `{ items: [...] }` (test/unit/gateway/frame-parser.test.ts checks that);
// every other packet, and decoding, is the default parser's.

/** socket.io's own default parser, resolved from socket.io so it is the copy it would use. */
const defaults = createRequire(require.resolve('socket.io'))('socket.io-parser') as typeof SocketIoParser;

/**
 * The payload of one `notifications` frame, holding its items' JSON as built once. Emitted in
 * place of `{ items }`; `toJSON` gives the same object, should any other encoder meet it.
 */
export class NotificationsFrame {
  constructor(readonly items: readonly EncodedNotification[]) {}

  toJSON(): { items: unknown[] } {
    return { items: this.items.map((item) => JSON.parse(item.json) as unknown) };
  }
}

/** EVENT packets `[event, NotificationsFrame]` are spliced; anything else goes to the default encoder. */
class FrameEncoder extends defaults.Encoder {
  override encode(packet: SocketIoParser.Packet): ReturnType<SocketIoParser.Encoder['encode']> {
    const data = packet.data as unknown[] | undefined;
    if (packet.type !== defaults.PacketType.EVENT || !Array.isArray(data) || data.length !== 2 || !(data[1] instanceof NotificationsFrame)) {
      return super.encode(packet);
    }
    // As the default encoder's encodeAsString: type, namespace unless "/" and a comma, ack id, JSON.
    let head = String(packet.type);
    if (packet.nsp && packet.nsp !== '/') head += `${packet.nsp},`;
    if (packet.id !== undefined && packet.id !== null) head += packet.id;
    // Appended piece by piece: V8 keeps the pieces as a rope that ws flattens once, where a
    // join would build the whole frame one extra time (the largest allocation per frame).
    let frame = `${head}[${JSON.stringify(data[0])},{"items":[`;
    const { items } = data[1];
    for (let i = 0; i < items.length; i++) {
      if (i > 0) frame += ',';
      frame += items[i].json;
    }
    return [`${frame}]}]`];
  }
}

/** The `parser` option of the gateway's socket.io server. */
export const frameParser = { protocol: defaults.protocol, PacketType: defaults.PacketType, Encoder: FrameEncoder, Decoder: defaults.Decoder };

/** The default parser, for tests that compare bytes. */
export const defaultParser = defaults;
