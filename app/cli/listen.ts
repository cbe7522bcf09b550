import { io, type Socket } from 'socket.io-client';
import type { WireNotification } from '../domain/notification';
import { priorityName } from '../domain/priority';
import { DEVICE_NAMESPACE, type DeviceToServerEvents, type ServerToDeviceEvents } from '../gateway/events';
import { changedCa, fetchPinnedCa, httpsJson } from './https-json';
import { loadListenState, saveListenState, type ListenState } from './listen-state';

// `beep listen`: the reference phone client for a terminal. Pairs with a code, prints what
// arrives, acks it only after saving that it saw it, and resumes after a restart.

export interface ListenOptions {
  stateFile: string;
  /** A pairing URL (https://host:port/#code=…&fp=…) or a gateway URL with `code`. */
  url?: string;
  code?: string;
  fingerprint?: string;
  name: string;
  json: boolean;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** Refresh the access token when this share of its life is used up. */
const REFRESH_AT = 0.8;

interface PairingTarget {
  gatewayUrl: string;
  code: string;
  fingerprint: string;
}

export function parsePairingUrl(url: string): Partial<PairingTarget> {
  const parsed = new URL(url);
  const fragment = new URLSearchParams(parsed.hash.replace(/^#/, ''));
  return {
    gatewayUrl: `${parsed.protocol}//${parsed.host}`,
    code: fragment.get('code') ?? undefined,
    fingerprint: fragment.get('fp') ?? undefined,
  };
}

async function pair(target: PairingTarget, name: string): Promise<ListenState> {
  const caPem = await fetchPinnedCa(target.gatewayUrl, target.fingerprint);
  const { status, body } = await httpsJson<Record<string, unknown>>(`${target.gatewayUrl}/api/v1/pair`, {
    method: 'POST',
    body: { code: target.code, name, platform: 'cli' },
    ca: caPem,
  });
  if (status !== 201) {
    const error = (body as { error?: { message?: string } }).error;
    throw new Error(`pairing failed: ${error?.message ?? `HTTP ${status}`}`);
  }
  return {
    gatewayUrl: target.gatewayUrl,
    caPem,
    deviceId: body.deviceId as string,
    accessToken: body.accessToken as string,
    refreshToken: body.refreshToken as string,
    accessExpiresAt: Date.now() + (body.accessExpiresIn as number) * 1000,
    seen: [],
  };
}

function format(n: WireNotification): string {
  const tags = n.tags.length ? ` [${n.tags.join(', ')}]` : '';
  const app = n.app ? `${n.app}: ` : '';
  const body = n.body ? `\n    ${n.body.replace(/\n/g, '\n    ')}` : '';
  const update = n.replaces ? ` (replaces ${n.replaces})` : '';
  return `${n.createdAt} ${priorityName(n.priority).padEnd(7)} ${app}${n.title}${tags}${update}${body}`;
}

/** Runs until revoked (resolves 'revoked') or stopped by the returned promise's caller. */
export async function listen(options: ListenOptions): Promise<{ done: Promise<'revoked'>; stop: () => void }> {
  let state = loadListenState(options.stateFile);
  if (!state) {
    const fromUrl = options.url ? parsePairingUrl(options.url) : {};
    const target = {
      gatewayUrl: fromUrl.gatewayUrl,
      code: options.code ?? fromUrl.code,
      fingerprint: options.fingerprint ?? fromUrl.fingerprint,
    };
    if (!target.gatewayUrl || !target.code || !target.fingerprint) {
      throw new Error('not paired yet: give the pairing URL (`beep pair` prints it) or --code on this PC');
    }
    state = await pair(target as PairingTarget, options.name);
    saveListenState(options.stateFile, state);
    options.err(`paired as device ${state.deviceId}; state kept in ${options.stateFile}`);
  }
  const current = state;
  const seen = new Set(current.seen);

  async function refresh(): Promise<void> {
    const { status, body } = await httpsJson<Record<string, unknown>>(`${current.gatewayUrl}/api/v1/token`, {
      method: 'POST',
      body: { refreshToken: current.refreshToken },
      ca: current.caPem,
    });
    if (status !== 200) {
      const code = (body as { error?: { code?: string } }).error?.code ?? `http_${status}`;
      throw Object.assign(new Error(`token refresh failed (${code}); pair again`), { code });
    }
    current.accessToken = body.accessToken as string;
    current.refreshToken = body.refreshToken as string;
    current.accessExpiresAt = Date.now() + (body.accessExpiresIn as number) * 1000;
    saveListenState(options.stateFile, current);
  }

  const socket: Socket<ServerToDeviceEvents, DeviceToServerEvents> = io(`${current.gatewayUrl}${DEVICE_NAMESPACE}`, {
    ca: current.caPem,
    transports: ['websocket'],
    auth: (cb) => cb({ token: current.accessToken }),
    reconnectionDelay: 1_000,
    reconnectionDelayMax: 30_000,
    randomizationFactor: 0.5,
  });

  let refreshTimer: NodeJS.Timeout | undefined;
  const scheduleRefresh = () => {
    clearTimeout(refreshTimer);
    const lifeMs = current.accessExpiresAt - Date.now();
    refreshTimer = setTimeout(() => {
      refresh().then(scheduleRefresh, (e: Error) => options.err(e.message));
    }, Math.max(1_000, lifeMs * REFRESH_AT));
  };
  scheduleRefresh();

  let resolveDone: (v: 'revoked') => void;
  const done = new Promise<'revoked'>((r) => (resolveDone = r));

  socket.on('connect', () => options.err('connected'));
  socket.on('disconnect', (reason) => options.err(`disconnected (${reason})`));
  socket.on('connect_error', (error) => {
    const code = (error as Error & { data?: { code?: string } }).data?.code;
    if (code === 'token_expired' || code === 'invalid_token') {
      refresh().then(
        () => socket.connect(),
        (e: Error) => options.err(e.message),
      );
    } else if (code) {
      options.err(`cannot connect: ${code}`);
    } else {
      // A bare transport error: say so in words when the PC's CA is no longer the pinned one.
      void changedCa(current.gatewayUrl, current.caPem).then((changed) => options.err(changed?.message ?? `cannot connect: ${error.message}`));
    }
  });
  socket.on('notifications', ({ items }, ack) => {
    const fresh = items.filter((n) => !seen.has(n.id));
    for (const n of fresh) {
      seen.add(n.id);
      current.seen.push(n.id);
    }
    saveListenState(options.stateFile, current); // stored before acked: the at-least-once contract
    for (const n of fresh) options.out(options.json ? JSON.stringify(n) : format(n));
    ack({ ack: items.map((n) => n.id) });
  });
  socket.on('dismissed', ({ ids }) => {
    for (const id of ids) options.out(options.json ? JSON.stringify({ dismissed: id }) : `dismissed ${id}`);
  });
  socket.on('revoked', () => {
    options.err('this device was revoked; pair again to receive notifications');
    clearTimeout(refreshTimer);
    socket.close();
    resolveDone('revoked');
  });

  return {
    done,
    stop: () => {
      clearTimeout(refreshTimer);
      socket.close();
    },
  };
}
