import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as dbus from 'dbus-next';

// A private session bus for tests: a real dbus-daemon on its own socket, a small notification
// server owning org.freedesktop.Notifications on it (as a desktop would have), and a D-Bus
// client that sends notifications the way applications do.

const NOTIFICATIONS = 'org.freedesktop.Notifications';
const NOTIFICATIONS_PATH = '/org/freedesktop/Notifications';

/** A dbus-daemon of our own, listening on <dir>/bus. */
export class PrivateBus {
  private proc?: ChildProcess;
  readonly socket: string;
  readonly address: string;

  constructor(readonly dir: string) {
    this.socket = path.join(dir, 'bus');
    this.address = `unix:path=${this.socket}`;
  }

  async start(): Promise<void> {
    fs.rmSync(this.socket, { force: true });
    const proc = spawn('dbus-daemon', ['--session', `--address=${this.address}`, '--nofork', '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) resolve();
      });
      proc.once('exit', (code) => reject(new Error(`dbus-daemon exited with ${code}`)));
    });
  }

  /** SIGTERM, as when the session ends. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGTERM');
    });
  }
}

function connect(address: string): Promise<dbus.MessageBus> {
  const bus = dbus.sessionBus({ busAddress: address });
  return new Promise((resolve, reject) => {
    bus.once('connect', () => resolve(bus));
    bus.once('error', reject);
  });
}

export interface ReceivedNotify {
  id: number;
  appName: string;
  replacesId: number;
  summary: string;
}

/** The tests' own notification server: assigns ids, honours replaces_id, emits NotificationClosed. */
export class FakeNotificationServer {
  readonly received: ReceivedNotify[] = [];
  /** Ids CloseNotification was called with. */
  readonly closeCalls: number[] = [];
  private nextId = 1;

  private constructor(private readonly bus: dbus.MessageBus) {}

  static async start(address: string): Promise<FakeNotificationServer> {
    const bus = await connect(address);
    const server = new FakeNotificationServer(bus);
    bus.addMethodHandler((m: dbus.Message) => server.handle(m));
    await bus.requestName(NOTIFICATIONS, dbus.NameFlag.DO_NOT_QUEUE);
    return server;
  }

  private handle(m: dbus.Message): boolean {
    if (m.interface !== NOTIFICATIONS) return false;
    const reply = (signature: string, body: unknown[]) => this.bus.send(dbus.Message.newMethodReturn(m, signature, body));
    switch (m.member) {
      case 'Notify': {
        const [appName, replacesId, , summary] = m.body as [string, number, string, string];
        const id = replacesId > 0 ? replacesId : this.nextId++;
        this.received.push({ id, appName, replacesId, summary });
        reply('u', [id]);
        return true;
      }
      case 'CloseNotification': {
        const id = m.body[0] as number;
        this.closeCalls.push(id);
        reply('', []);
        this.emitClosed(id, 3);
        return true;
      }
      case 'GetCapabilities':
        reply('as', [['body', 'body-markup', 'actions']]);
        return true;
      case 'GetServerInformation':
        reply('ssss', ['beep-test', 'beep', '1.0', '1.2']);
        return true;
      default:
        return false;
    }
  }

  /** The user closed it on the desktop (reason 2) — or it expired (reason 1). */
  emitClosed(id: number, reason = 2): void {
    this.bus.send(dbus.Message.newSignal(NOTIFICATIONS_PATH, NOTIFICATIONS, 'NotificationClosed', 'uu', [id, reason]));
  }

  stop(): void {
    this.bus.disconnect();
  }
}

/** An application sending over D-Bus directly (not through libnotify). */
export async function sendNotify(
  address: string,
  n: { app: string; summary: string; body?: string; replacesId?: number; icon?: string; hints?: Record<string, dbus.Variant> },
): Promise<number> {
  const bus = await connect(address);
  try {
    const reply = await bus.call(
      new dbus.Message({
        destination: NOTIFICATIONS,
        path: NOTIFICATIONS_PATH,
        interface: NOTIFICATIONS,
        member: 'Notify',
        signature: 'susssasa{sv}i',
        body: [n.app, n.replacesId ?? 0, n.icon ?? '', n.summary, n.body ?? '', [], n.hints ?? {}, -1],
      }),
    );
    return reply!.body[0] as number;
  } finally {
    bus.disconnect();
  }
}

/** Debian's notify-send (libnotify-bin) against the private bus. */
export function notifySend(address: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const proc = spawn('notify-send', args, { env: { PATH: process.env.PATH, DBUS_SESSION_BUS_ADDRESS: address } });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`notify-send exited ${code}: ${err}`))));
  });
}
