import type * as dbus from 'dbus-next';
import type { CaptureSink, DesktopIdStore, DesktopSource, SourceStatus } from '../source';
import { dialable, unavailableReason } from './bus-address';
import { BUS_NAME, BUS_PATH, callMethod, MessageType, openBus, type BusConnection } from './bus-connection';
import { NOTIFY_SIGNATURE, parseNotifyBody, toNotificationInput } from './notify-mapping';

// Linux capture: a monitor on the session bus sees every Notify call to
// org.freedesktop.Notifications (whoever serves it: GNOME, KDE, dunst, or nobody), its reply
// (the id the server assigned), and the server's NotificationClosed / ActionInvoked signals.
// A second, ordinary connection closes notifications a phone dismissed. Without a bus it
// waits and reattaches when one appears.

export interface DbusCaptureOptions {
  enabled: boolean;
  address: string | null;
  /** An explicitly configured address that cannot be reached degrades health. */
  expected: boolean;
  retryMs: number;
}

/** What capture logs through (a winston child logger fits). */
export interface SourceLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
}

const NOTIFICATIONS = 'org.freedesktop.Notifications';
const NOTIFICATIONS_PATH = '/org/freedesktop/Notifications';
const MATCH_RULES = [
  `type='method_call',interface='${NOTIFICATIONS}',member='Notify'`,
  "type='method_return'",
  "type='error'",
  `type='signal',interface='${NOTIFICATIONS}'`,
  `type='signal',sender='${BUS_NAME}',interface='${BUS_NAME}',member='NameOwnerChanged',arg0='${NOTIFICATIONS}'`,
];
/** ms to connect and say Hello. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Notify calls awaiting their reply, and recently learned desktop ids, kept in memory at most. */
const MAX_IN_MEMORY = 1024;
/** NotificationClosed reasons that mean a person (or the app) closed it; 1 = expired is not one. */
const CLOSED_BY_SOMEONE = new Set([2, 3]);

function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.set(key, value);
  if (map.size > MAX_IN_MEMORY) map.delete(map.keys().next().value as K);
}

/**
 * The D-Bus source.
 *
 *   const capture = new DbusCapture({ enabled, address, expected, retryMs }, sink, store, log);
 *   capture.start();
 */
export class DbusCapture implements DesktopSource {
  readonly name = 'dbus' as const;
  private control: BusConnection | null = null;
  private monitor: BusConnection | null = null;
  private busId: string | null = null;
  /** The unique name currently owning org.freedesktop.Notifications. */
  private server: string | null = null;
  private state: SourceStatus['state'];
  private reason: string | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** `<caller>#<serial>` of a Notify call → its Beep id (null when muted). */
  private readonly pending = new Map<string, Promise<string | null>>();
  /** Desktop keys learned but perhaps not yet stored (a close may come first). */
  private readonly learned = new Map<string, Promise<string | null>>();

  constructor(
    private readonly options: DbusCaptureOptions,
    private readonly sink: CaptureSink,
    private readonly ids: DesktopIdStore,
    private readonly log: SourceLog,
  ) {
    this.state = options.enabled ? 'waiting' : 'disabled';
    if (!options.enabled) this.reason = 'disabled in the configuration (sources.dbus.enabled)';
  }

  start(): void {
    if (this.options.enabled) void this.attach();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.detach();
  }

  status(): SourceStatus {
    return { state: this.state, from: this.options.address, reason: this.reason, expected: this.options.expected };
  }

  async closeOnDesktop(id: string): Promise<boolean> {
    const key = await this.ids.desktopKeyOf(this.name, id);
    if (!key || !this.control) return false;
    const [busId, server, desktopId] = key.split('/');
    // Ids belong to one server instance: a restarted server (or bus) must not close a stranger.
    if (busId !== this.busId || server !== this.server) return false;
    try {
      await callMethod(this.control.bus, {
        destination: NOTIFICATIONS,
        path: NOTIFICATIONS_PATH,
        interface: NOTIFICATIONS,
        member: 'CloseNotification',
        signature: 'u',
        body: [Number(desktopId)],
      });
      return true;
    } catch (error) {
      this.log.warn('CloseNotification failed', { desktopId, error: String(error) });
      return false;
    }
  }

  private async attach(): Promise<void> {
    if (this.stopped) return;
    const target = this.options.address ? dialable(this.options.address) : null;
    if (!target) return this.wait(`no usable session bus address (${this.options.address ?? 'none'})`);
    const missing = unavailableReason(target);
    if (missing) return this.wait(missing);
    try {
      this.control = await openBus(target.address, CONNECT_TIMEOUT_MS);
      this.monitor = await openBus(target.address, CONNECT_TIMEOUT_MS);
      const call = (member: string, signature?: string, body?: unknown[]) =>
        callMethod(this.control!.bus, { destination: BUS_NAME, path: BUS_PATH, interface: BUS_NAME, member, signature, body });
      this.busId = String((await call('GetId'))[0]);
      this.server = await call('GetNameOwner', 's', [NOTIFICATIONS]).then((b) => String(b[0]), () => null);
      const monitor = this.monitor.bus;
      monitor.addMethodHandler(() => true); // a monitor never answers what it overhears
      monitor.on('message', (m: dbus.Message) => this.onMessage(m));
      await callMethod(monitor, {
        destination: BUS_NAME,
        path: BUS_PATH,
        interface: 'org.freedesktop.DBus.Monitoring',
        member: 'BecomeMonitor',
        signature: 'asu',
        body: [MATCH_RULES, 0],
      });
    } catch (error) {
      this.detach();
      return this.wait(`cannot attach to the session bus: ${(error as Error).message}`);
    }
    if (this.stopped) return this.detach();
    this.state = 'attached';
    this.reason = undefined;
    this.log.info('capturing desktop notifications from the session bus', { address: target.address, server: this.server });
    const lost = [this.control.closed, this.monitor.closed];
    const connections = [this.control, this.monitor];
    void Promise.race(lost).then((reason) => {
      if (this.stopped || this.control !== connections[0]) return;
      this.log.warn('lost the session bus; desktop capture paused until it is back', { reason });
      this.detach();
      this.wait(reason);
    });
  }

  private wait(reason: string): void {
    if (this.stopped) return;
    if (reason !== this.reason) {
      this.log.info('running without D-Bus capture for now; will attach when the session bus appears', { reason });
    }
    this.state = 'waiting';
    this.reason = reason;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.attach(), this.options.retryMs);
    this.retryTimer.unref();
  }

  private detach(): void {
    this.control?.close();
    this.monitor?.close();
    this.control = null;
    this.monitor = null;
    this.pending.clear();
  }

  private onMessage(m: dbus.Message): void {
    switch (m.type) {
      case MessageType.METHOD_CALL:
        if (m.interface === NOTIFICATIONS && m.member === 'Notify' && m.signature === NOTIFY_SIGNATURE) this.onNotify(m);
        return;
      case MessageType.METHOD_RETURN:
      case MessageType.ERROR: {
        const key = `${m.destination}#${m.replySerial}`;
        const accepted = this.pending.get(key);
        if (!accepted) return;
        this.pending.delete(key);
        const desktopId = m.body?.[0];
        if (m.type === MessageType.METHOD_RETURN && typeof desktopId === 'number') this.onAssigned(m.sender, desktopId, accepted);
        return;
      }
      case MessageType.SIGNAL:
        this.onSignal(m);
    }
  }

  private onNotify(m: dbus.Message): void {
    const call = parseNotifyBody(m.body);
    if (!call) return;
    const input = toNotificationInput(call);
    const replaced = call.replacesId > 0 && this.server ? this.resolve(this.key(this.server, call.replacesId)) : Promise.resolve(null);
    const accepted = replaced
      .then((id) => this.sink.accept({ ...input, replaces: id }))
      .catch((error) => {
        this.log.warn('a captured notification was not accepted', { app: input.app, error: String(error) });
        return null;
      });
    remember(this.pending, `${m.sender}#${m.serial}`, accepted);
  }

  private onAssigned(server: string, desktopId: number, accepted: Promise<string | null>): void {
    this.server = server;
    const key = this.key(server, desktopId);
    remember(this.learned, key, accepted);
    void accepted.then((id) => {
      if (id) return this.ids.rememberDesktopId(this.name, key, id);
    }).catch((error) => this.log.warn('could not store a desktop id', { error: String(error) }));
  }

  private onSignal(m: dbus.Message): void {
    if (m.interface === BUS_NAME && m.member === 'NameOwnerChanged' && m.body?.[0] === NOTIFICATIONS) {
      this.server = m.body[2] ? String(m.body[2]) : null;
      return;
    }
    if (m.interface !== NOTIFICATIONS) return;
    const desktopId = m.body?.[0];
    if (typeof desktopId !== 'number') return;
    const closed = m.member === 'NotificationClosed' && CLOSED_BY_SOMEONE.has(Number(m.body[1]));
    // Acting on a notification on the desktop means it was seen there too.
    if (!closed && m.member !== 'ActionInvoked') return;
    const key = this.key(m.sender, desktopId);
    void this.resolve(key)
      .then((id) => (id ? this.sink.dismissed(id) : undefined))
      .catch((error) => this.log.warn('could not dismiss a notification closed on the desktop', { error: String(error) }));
  }

  /** The Beep id behind a desktop key: from memory (a close may outrun the store), else the store. */
  private async resolve(key: string): Promise<string | null> {
    return this.learned.get(key) ?? (await this.ids.notificationForDesktopKey(this.name, key)) ?? null;
  }

  private key(server: string, desktopId: number): string {
    return `${this.busId}/${server}/${desktopId}`;
  }
}
