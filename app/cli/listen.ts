import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, type DeviceToServerEvents, type ServerToDeviceEvents } from '../gateway/events';
import { changedCa, fetchPinnedCa, httpsJson } from './https-json';
import { formatNotification } from './listen-format';
import { loadListenState, saveListenState, type ListenState } from './listen-state';
import { acquireProcessLock, LockHeldError, type ProcessLock } from '../util/process-lock';

// `beep listen`: the reference phone client for a terminal. Pairs with a code, prints what
// arrives, acks it only after saving that it saw it, survives daemon restarts and network drops,
// and resumes after its own restart. One listener per state file.

export interface ListenOptions {
  stateFile: string;
  /** A pairing URL (https://host:port/#code=…&fp=…) or a gateway URL with `code`. */
  url?: string;
  code?: string;
  fingerprint?: string;
  name: string;
  json: boolean;
  /** Ask, when pairing, for the recent history the code offers. */
  history?: boolean;
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

async function pair(target: PairingTarget, name: string, history: boolean): Promise<ListenState> {
  const caPem = await fetchPinnedCa(target.gatewayUrl, target.fingerprint);
  const { status, body } = await httpsJson<Record<string, unknown>>(`${target.gatewayUrl}/api/v1/pair`, {
    method: 'POST',
    body: { code: target.code, name, platform: 'cli', ...(history ? { history: true } : {}) },
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

/** ms before the first reconnect attempt after the daemon dropped the socket; doubles up to the max. */
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 30_000;
/** Refresh answers after which no retry can help: the device must pair again. */
const FATAL_REFRESH = new Set(['refresh_token_invalid', 'refresh_token_reused', 'device_revoked', 'device_not_found']);

/** The pairing target from the options, or undefined when they carry no code. */
function targetFrom(options: ListenOptions): Partial<PairingTarget> | undefined {
  const fromUrl = options.url ? parsePairingUrl(options.url) : {};
  const code = options.code ?? fromUrl.code;
  if (!code) return undefined;
  return { gatewayUrl: fromUrl.gatewayUrl, code, fingerprint: options.fingerprint ?? fromUrl.fingerprint };
}

/** The state to run with: the saved one, or a new pairing when a code is given (a new device). */
async function stateFor(options: ListenOptions): Promise<ListenState> {
  const saved = loadListenState(options.stateFile);
  const target = targetFrom(options);
  if (!target) {
    if (saved) return saved;
    throw new Error('not paired yet: give the pairing URL (`beep pair` prints it) or --code on this PC');
  }
  if (!target.gatewayUrl || !target.fingerprint) throw new Error('a pairing code needs the pairing URL (or a daemon on this PC to pair with)');
  const state = await pair(target as PairingTarget, options.name, Boolean(options.history));
  saveListenState(options.stateFile, state);
  options.err(`paired as device ${state.deviceId}; state kept in ${options.stateFile}`);
  if (saved && saved.deviceId !== state.deviceId) {
    options.err(`the device this state file held before (${saved.deviceId}) stays paired; \`beep revoke ${saved.deviceId}\` removes it`);
  }
  return state;
}

/** Takes the state file for this process: two listeners on one device would steal each other's batches. */
function lockState(stateFile: string): ProcessLock {
  fs.mkdirSync(path.dirname(stateFile), { recursive: true, mode: 0o700 });
  try {
    return acquireProcessLock(`${stateFile}.lock`, `${stateFile}.pid`);
  } catch (error) {
    if (!(error instanceof LockHeldError)) throw error;
    throw new Error(`another \`beep listen\`${error.pid ? ` (pid ${error.pid})` : ''} is using ${stateFile}; stop it, or give this one its own --state file`);
  }
}

/**
 * Runs until revoked (resolves 'revoked') or stopped. Reconnects with backoff whatever ended the
 * connection (a daemon restart, a network drop, a refused handshake), refreshes its token before
 * it expires, and resumes: what arrived meanwhile is delivered once.
 */
export async function listen(options: ListenOptions): Promise<{ done: Promise<'revoked'>; stop: () => void }> {
  const lock = lockState(options.stateFile);
  let current: ListenState;
  try {
    current = await stateFor(options);
  } catch (error) {
    lock.release();
    throw error;
  }
  const seen = new Set(current.seen);
  let stopped = false;
  let lastProblem = '';
  /** Says a problem once, not at every retry. */
  const problem = (line: string) => {
    if (line !== lastProblem) options.err(line);
    lastProblem = line;
  };

  let resolveDone: (v: 'revoked') => void;
  const done = new Promise<'revoked'>((r) => (resolveDone = r));

  async function refresh(): Promise<void> {
    const { status, body } = await httpsJson<Record<string, unknown>>(`${current.gatewayUrl}/api/v1/token`, {
      method: 'POST',
      body: { refreshToken: current.refreshToken },
      ca: current.caPem,
    });
    if (status !== 200) {
      const code = (body as { error?: { code?: string } }).error?.code ?? `http_${status}`;
      throw Object.assign(new Error(`token refresh failed (${code})`), { code });
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
    reconnectionDelay: RECONNECT_MIN_MS,
    reconnectionDelayMax: RECONNECT_MAX_MS,
    randomizationFactor: 0.5,
  });

  // socket.io retries lost transports itself, but not a disconnect the server asked for (a
  // daemon stopping) nor a handshake its middleware refused: those are retried here.
  let backoffMs = RECONNECT_MIN_MS;
  let retryTimer: NodeJS.Timeout | undefined;
  const retryLater = () => {
    if (stopped || retryTimer) return;
    const delay = Math.round(backoffMs * (0.5 + Math.random()));
    backoffMs = Math.min(RECONNECT_MAX_MS, backoffMs * 2);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!stopped && !socket.connected) socket.connect();
    }, delay);
  };

  let refreshTimer: NodeJS.Timeout | undefined;
  const scheduleRefresh = (delayMs = Math.max(1_000, (current.accessExpiresAt - Date.now()) * REFRESH_AT)) => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refresh().then(
        () => scheduleRefresh(),
        (e: Error & { code?: string }) => (FATAL_REFRESH.has(e.code ?? '') ? end(`${e.message}: pair again`) : scheduleRefresh(RECONNECT_MAX_MS)),
      );
    }, delayMs);
  };
  scheduleRefresh();

  const end = (why: string) => {
    options.err(why);
    finish();
    resolveDone('revoked');
  };
  const finish = () => {
    stopped = true;
    clearTimeout(refreshTimer);
    clearTimeout(retryTimer);
    socket.close();
    lock.release();
  };

  socket.on('connect', () => {
    backoffMs = RECONNECT_MIN_MS;
    lastProblem = '';
    options.err('connected');
  });
  socket.on('disconnect', (reason) => {
    if (stopped) return;
    options.err(`disconnected (${reason}); reconnecting`);
    if (reason === 'io server disconnect') retryLater();
  });
  socket.on('connect_error', (error) => {
    const code = (error as Error & { data?: { code?: string } }).data?.code;
    if (code === 'device_revoked') return end('this device was revoked; pair again to receive notifications');
    if (code === 'token_expired' || code === 'invalid_token') {
      refresh().then(
        () => socket.connect(),
        (e: Error & { code?: string }) => (FATAL_REFRESH.has(e.code ?? '') ? end(`${e.message}: pair again`) : (problem(`cannot connect: ${e.message}`), retryLater())),
      );
    } else if (code) {
      problem(`cannot connect: ${code}`);
      retryLater(); // refused by the server's middleware: socket.io does not retry that on its own
    } else {
      // A bare transport error (socket.io retries it): say so in words when the PC's CA changed.
      void changedCa(current.gatewayUrl, current.caPem).then((changed) => problem(changed?.message ?? `cannot reach ${current.gatewayUrl} (${error.message}); retrying`));
    }
  });
  socket.on('notifications', ({ items }, ack) => {
    const fresh = items.filter((n) => !seen.has(n.id));
    for (const n of fresh) {
      seen.add(n.id);
      current.seen.push(n.id);
    }
    saveListenState(options.stateFile, current); // stored before acked: the at-least-once contract
    for (const n of fresh) options.out(options.json ? JSON.stringify(n) : formatNotification(n, new Date(), current.gatewayUrl));
    ack({ ack: items.map((n) => n.id) });
  });
  // Recent history asked for at pairing: shown once, marked as earlier, never acked.
  socket.on('history', ({ items }) => {
    for (const n of items) options.out(options.json ? JSON.stringify({ ...n, history: true }) : `(earlier) ${formatNotification(n, new Date(), current.gatewayUrl)}`);
  });
  socket.on('dismissed', ({ ids }) => {
    for (const id of ids) options.out(options.json ? JSON.stringify({ dismissed: id }) : `dismissed ${id}`);
  });
  socket.on('revoked', () => end('this device was revoked; pair again to receive notifications'));

  return { done, stop: finish };
}
