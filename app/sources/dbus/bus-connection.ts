import type * as dbus from 'dbus-next';

// One connection to a D-Bus bus (dbus-next), with a promise that settles when it is lost, and
// the two bus calls capture makes. Monitors and callers each get their own connection: a
// monitor may not send anything once it is one. dbus-next (~10 MB resident) is loaded on the
// first attempt to connect, so a daemon on a machine with no session bus never holds it.

/** The D-Bus message types (the specification's numbers, as dbus-next's MessageType has them). */
export const MessageType = { METHOD_CALL: 1, METHOD_RETURN: 2, ERROR: 3, SIGNAL: 4 } as const;

export interface BusConnection {
  readonly bus: dbus.MessageBus;
  /** Resolves with a reason once the connection is gone (bus stopped, socket closed). */
  readonly closed: Promise<string>;
  close(): void;
}

export const BUS_NAME = 'org.freedesktop.DBus';
export const BUS_PATH = '/org/freedesktop/DBus';

/** Connects and says Hello; rejects when the bus cannot be reached within `timeoutMs`. */
export async function openBus(address: string, timeoutMs: number): Promise<BusConnection> {
  const dbus = await import('dbus-next');
  return new Promise((resolve, reject) => {
    let bus: dbus.MessageBus;
    try {
      bus = dbus.sessionBus({ busAddress: address, authMethods: ['EXTERNAL'] });
    } catch (error) {
      return reject(error);
    }
    let settle: (reason: string) => void = () => undefined;
    const closed = new Promise<string>((r) => (settle = r));
    let connected = false;
    const close = () => {
      try {
        bus.disconnect();
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      close();
      reject(new Error(`no answer from the bus within ${timeoutMs} ms`));
    }, timeoutMs);
    bus.on('error', (error: Error) => {
      if (connected) return settle(`bus connection error: ${error.message}`);
      clearTimeout(timer);
      close();
      reject(error);
    });
    // dbus-next does not surface the end of its stream; its connection object does.
    (bus as unknown as { _connection: NodeJS.EventEmitter })._connection.on('end', () => settle('the bus closed the connection'));
    bus.on('connect', () => {
      connected = true;
      clearTimeout(timer);
      resolve({ bus, closed, close });
    });
  });
}

/** A method call on the bus; resolves with the reply body. */
export async function callMethod(
  bus: dbus.MessageBus,
  call: { destination: string; path: string; interface: string; member: string; signature?: string; body?: unknown[] },
): Promise<unknown[]> {
  const { Message } = await import('dbus-next');
  const reply = await bus.call(new Message({ ...call, body: call.body as unknown[] }));
  return reply?.body ?? [];
}
