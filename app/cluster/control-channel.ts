import type { DismissedEvent } from '../delivery/relay-bus';

// Control events between the nodes, over socket.io's Redis Streams adapter (`serverSideEmit`
// reaches every other node; a node never hears its own). They close what must close on every
// node: a revoked device's socket, a revoked API token's streams, a phone's older connection
// when another node accepted a newer one, an ended dashboard session's live feeds, and a
// dismissal's `dismissed` to the phones of the other nodes, and a CA rotation (each node swaps in
// the cluster's new CA at once; its TRUST_REFRESH_MS check catches a missed message). Notifications never travel here: every node reads the outbox stream.

/** The socket.io event every control message travels as. */
export const CONTROL_EVENT = 'beep:control';

/** One control message. */
export type ControlMessage =
  | { kind: 'device-connected'; deviceId: string; epoch: number; node: string }
  | { kind: 'device-revoked'; deviceId: string }
  | { kind: 'token-revoked'; tokenId: number }
  | { kind: 'sessions-ended'; sessionKeys: string[] }
  | { kind: 'dismissed'; event: DismissedEvent }
  | { kind: 'ca-rotated'; fingerprint: string; node: string };

/** What serverSideEmit is called on (a socket.io Server or Namespace with a cluster adapter). */
export interface ControlTransport {
  serverSideEmit(event: string, ...args: unknown[]): boolean;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** Sends control messages to the other nodes and hands theirs to `receive`. */
export class ControlChannel {
  private transport: ControlTransport | undefined;

  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  /** Connects the channel once socket.io (with its adapter) exists. */
  attach(transport: ControlTransport, receive: (message: ControlMessage) => void): void {
    this.transport = transport;
    transport.on(CONTROL_EVENT, (message: unknown) => {
      try {
        receive(message as ControlMessage);
      } catch (error) {
        this.onError(error);
      }
    });
  }

  /** To every other node (lost with the adapter's stream if Redis is down: revocation is also checked on every token use). */
  send(message: ControlMessage): void {
    try {
      this.transport?.serverSideEmit(CONTROL_EVENT, message);
    } catch (error) {
      this.onError(error);
    }
  }
}
