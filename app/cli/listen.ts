import fs from 'node:fs';
import path from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, type DeviceToServerEvents, type ServerToDeviceEvents } from '../gateway/events';
import { changedCa, fetchPinnedCa, httpsJson } from './https-json';
import { formatNotification } from './listen-format';
import { NodeRoster, PREFERRED_PROBE_MS, RETRY_MAX_MS, retryDelay, validNodes } from './listen-nodes';
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
    nodes: validNodes(body.nodes),
    seen: [],
  };
}

/** ms a connection attempt to one node may take before the next is tried. */
const CONNECT_TIMEOUT_MS = 10_000;
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
    // Through the node in use (any node answers for the cluster); the answer's node list is kept.
    const { status, body } = await httpsJson<Record<string, unknown>>(`${activeUrl}/api/v1/token`, {
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
    roster.update(validNodes(body.nodes));
    current.nodes = roster.all;
    saveListenState(options.stateFile, current);
  }

  // Which node it connects through: the paired one while it answers, else the others in turn.
  const roster = new NodeRoster(current.gatewayUrl, current.nodes ?? []);
  let activeUrl = current.gatewayUrl;
  let socket: Socket<ServerToDeviceEvents, DeviceToServerEvents> | undefined;
  let attempt = 0;
  let retryTimer: NodeJS.Timeout | undefined;
  let probeTimer: NodeJS.Timeout | undefined;

  /** A lost or refused connection: the next node (round-robin) after a jittered, capped wait. */
  const failOver = () => {
    if (stopped || retryTimer) return;
    const url = roster.next(activeUrl);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (!stopped) connectTo(url);
    }, retryDelay(attempt++));
  };

  /** While on another node: now and then, whether the preferred one answers again; if so, back to it. */
  const probePreferred = () => {
    clearTimeout(probeTimer);
    if (stopped || activeUrl === roster.preferred) return;
    probeTimer = setTimeout(() => {
      httpsJson(`${roster.preferred}/ca.crt`, { ca: current.caPem }).then(
        ({ status }) => {
          if (stopped || activeUrl === roster.preferred) return;
          if (status === 200) {
            options.err(`${roster.name(roster.preferred)} answers again; moving back to it`);
            connectTo(roster.preferred);
          } else probePreferred();
        },
        () => probePreferred(),
      );
    }, Math.round(PREFERRED_PROBE_MS * (0.5 + Math.random() / 2)));
  };

  const end = (why: string) => {
    options.err(why);
    finish();
    resolveDone('revoked');
  };
  const finish = () => {
    stopped = true;
    clearTimeout(refreshTimer);
    clearTimeout(retryTimer);
    clearTimeout(probeTimer);
    socket?.close();
    lock.release();
  };

  /** Opens the device socket to `url`, closing the one before (only the newest socket's events count). */
  function connectTo(url: string): void {
    const previous = socket;
    previous?.removeAllListeners();
    previous?.close();
    activeUrl = url;
    const s: Socket<ServerToDeviceEvents, DeviceToServerEvents> = io(`${url}${DEVICE_NAMESPACE}`, {
      ca: current.caPem, // one CA for every node of the cluster
      transports: ['websocket'],
      auth: (cb) => cb({ token: current.accessToken }),
      // Every retry is decided here: the same node or the next one, with backoff.
      reconnection: false,
      forceNew: true,
      timeout: CONNECT_TIMEOUT_MS,
    });
    socket = s;
    const live = () => !stopped && socket === s;
    s.on('connect', () => {
      if (!live()) return;
      attempt = 0;
      lastProblem = '';
      options.err(`connected through ${roster.name(url)} (${url})`);
      probePreferred();
    });
    s.on('disconnect', (reason) => {
      if (!live()) return;
      options.err(`disconnected (${reason}); reconnecting`);
      failOver();
    });
    s.on('connect_error', (error) => {
      if (!live()) return;
      const code = (error as Error & { data?: { code?: string } }).data?.code;
      if (code === 'device_revoked') return end('this device was revoked; pair again to receive notifications');
      if (code === 'token_expired' || code === 'invalid_token') {
        refresh().then(
          () => live() && connectTo(url),
          (e: Error & { code?: string }) => (FATAL_REFRESH.has(e.code ?? '') ? end(`${e.message}: pair again`) : (problem(`cannot connect: ${e.message}`), failOver())),
        );
      } else if (code) {
        problem(`cannot connect through ${roster.name(url)}: ${code}`);
        failOver(); // refused by that node's middleware (overloaded, rate-limited): another may take it
      } else {
        // A transport error: that node is unreachable. Say so in words when the PC's CA changed.
        void changedCa(url, current.caPem).then((changed) => problem(changed?.message ?? `cannot reach ${url} (${error.message}); trying ${roster.all.length > 1 ? 'the other nodes' : 'again'}`));
        failOver();
      }
    });
    s.on('notifications', ({ items }, ack) => {
      const fresh = items.filter((n) => !seen.has(n.id));
      for (const n of fresh) {
        seen.add(n.id);
        current.seen.push(n.id);
      }
      saveListenState(options.stateFile, current); // stored before acked: the at-least-once contract
      for (const n of fresh) options.out(options.json ? JSON.stringify(n) : formatNotification(n, new Date(), url));
      ack({ ack: items.map((n) => n.id) });
    });
    // Recent history asked for at pairing: shown once, marked as earlier, never acked.
    s.on('history', ({ items }) => {
      for (const n of items) options.out(options.json ? JSON.stringify({ ...n, history: true }) : `(earlier) ${formatNotification(n, new Date(), url)}`);
    });
    s.on('dismissed', ({ ids }) => {
      for (const id of ids) options.out(options.json ? JSON.stringify({ dismissed: id }) : `dismissed ${id}`);
    });
    s.on('revoked', () => end('this device was revoked; pair again to receive notifications'));
  }

  let refreshTimer: NodeJS.Timeout | undefined;
  const scheduleRefresh = (delayMs = Math.max(1_000, (current.accessExpiresAt - Date.now()) * REFRESH_AT)) => {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(() => {
      refresh().then(
        () => scheduleRefresh(),
        (e: Error & { code?: string }) => (FATAL_REFRESH.has(e.code ?? '') ? end(`${e.message}: pair again`) : scheduleRefresh(RETRY_MAX_MS)),
      );
    }, delayMs);
  };
  scheduleRefresh();
  connectTo(current.gatewayUrl);

  return { done, stop: finish };
}
