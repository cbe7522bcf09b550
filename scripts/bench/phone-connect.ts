import type { SecureContext } from 'node:tls';
import WebSocket from 'ws';
import { socketSourceOptions } from './client-address';
import { nowMs } from './clock';
import type { FleetSpec } from './system';

// One simulated phone, speaking the wire protocol directly over a WebSocket: engine.io v4
// (open, ping/pong) and socket.io v5 packets (namespace connect with auth, events with ack ids,
// acks) — the same bytes socket.io-client sends, at a fraction of its CPU, so the client core
// is not what limits a fan-out. Beep phones join `/device` and ack each `notifications` frame
// with `{ack: ids}` (PROTOCOL.md); relay phones stay on `/` and ack `notification` when asked.

/** Receives the bodies of one frame (one Beep batch, or one relay notification) and their receipt time. */
export type FrameHandler = (bodies: unknown[], atMs: number) => void;

/** A connected phone; close() ends it without it counting as lost. */
export interface PhoneSocket {
  close(): void;
}

/** socket.io packet types (the digit after engine.io's `4` message type). */
const CONNECT = '0';
const DISCONNECT = '1';
const EVENT = '2';
const CONNECT_ERROR = '4';

/**
 * Connects phone `index` (from its own loopback address) with `token`, trusting the CA in
 * `tlsContext` (one per fleet: building it per phone costs more than the handshake); resolves
 * once its namespace accepted it.
 */
export function connectPhone(
  spec: FleetSpec,
  tlsContext: SecureContext,
  token: string,
  index: number,
  onFrame: FrameHandler,
  lost: (message: string) => void,
): Promise<PhoneSocket> {
  const label = `phone ${index}`;
  const namespace = spec.protocol === 'beep' ? '/device' : '/';
  // Packets of the main namespace carry no prefix; others carry "<nsp>," after the type.
  const prefix = namespace === '/' ? '' : `${namespace},`;
  const url = new URL('/socket.io/?EIO=4&transport=websocket', spec.url.replace(/^http/, 'ws'));
  // ws hands TLS options on to tls.connect, but its types do not list secureContext.
  const tlsOptions: Record<string, unknown> = { secureContext: tlsContext };
  const ws = new WebSocket(url, { perMessageDeflate: false, ...tlsOptions, ...socketSourceOptions(index) });
  let closing = false;
  let connected = false;

  const onEvent = (text: string, at: number) => {
    let i = 2 + prefix.length;
    while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
    const ackId = text.slice(2 + prefix.length, i);
    const [event, payload] = JSON.parse(text.slice(i)) as [string, { items?: { id: string; body?: unknown }[]; body?: unknown }];
    if (event === 'notifications' && Array.isArray(payload?.items)) {
      onFrame(payload.items.map((item) => item.body), at);
      if (ackId) ws.send(`43${prefix}${ackId}[${JSON.stringify({ ack: payload.items.map((item) => item.id) })}]`);
    } else if (event === 'notification') {
      onFrame([payload?.body], at);
      if (ackId) ws.send(`43${prefix}${ackId}[]`);
    }
  };

  return new Promise((resolve, reject) => {
    const fail = (message: string) => {
      if (closing) return;
      if (!connected) {
        closing = true;
        ws.terminate();
        reject(new Error(`${label} could not connect: ${message}`));
      } else {
        lost(`${label}: ${message}`);
      }
    };
    ws.on('message', (data: Buffer) => {
      const at = nowMs();
      const text = data.toString();
      switch (text[0]) {
        case '0': // engine.io open: join the namespace with the token in the auth payload
          return ws.send(`40${prefix}${JSON.stringify({ token })}`);
        case '2': // engine.io ping
          return ws.send('3');
        case '1':
          return fail('engine.io close');
        case '4':
          if (prefix && !text.startsWith(prefix, 2)) return;
          if (text[1] === EVENT) return onEvent(text, at);
          if (text[1] === CONNECT) {
            connected = true;
            return resolve({
              close: () => {
                closing = true;
                ws.close();
              },
            });
          }
          if (text[1] === CONNECT_ERROR) return fail(`connect_error ${text.slice(2 + prefix.length)}`);
          if (text[1] === DISCONNECT) return fail('server disconnect');
      }
    });
    ws.on('error', (error) => fail(error.message));
    ws.on('close', (code) => fail(`closed (${code})`));
  });
}
