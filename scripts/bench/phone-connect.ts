import { io, type Socket } from 'socket.io-client';
import { nowMs } from './clock';
import { socketSourceOptions } from './client-address';
import type { FleetSpec } from './system';
import { whenConnected } from './socket-ready';

// One simulated phone, speaking only the wire protocol (PROTOCOL.md for Beep, the relays'
// `notification` event): it hands every body it receives to `onFrame` with the receipt time,
// then acks as a phone that has stored them does.

/** Beep's `/device` payload, as PROTOCOL.md defines it (the bench reads only ids and bodies). */
interface BeepFrame {
  items: { id: string; body?: unknown }[];
}

/** Receives the bodies of one frame (one Beep batch, or one relay notification) and their receipt time. */
export type FrameHandler = (bodies: unknown[], atMs: number) => void;

/** Connects phone `index` (its own loopback address) with `token`; resolves once connected. */
export function connectPhone(
  spec: FleetSpec,
  token: string,
  index: number,
  onFrame: FrameHandler,
  lost: (message: string) => void,
  opened: Socket[],
): Promise<void> {
  const socket = io(spec.url, {
    ca: spec.ca,
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
    ...socketSourceOptions(index),
  });
  opened.push(socket);
  if (spec.protocol === 'beep') {
    socket.on('notifications', (frame: BeepFrame, ack?: (reply: { ack: string[] }) => void) => {
      const at = nowMs();
      const items = Array.isArray(frame?.items) ? frame.items : [];
      onFrame(items.map((item) => item.body), at);
      ack?.({ ack: items.map((item) => item.id) });
    });
  } else {
    socket.on('notification', (notification: { body?: unknown }, ack?: () => void) => {
      onFrame([notification?.body], nowMs());
      ack?.();
    });
  }
  return whenConnected(socket, `phone ${index}`, lost);
}
