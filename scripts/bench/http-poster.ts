import http from 'node:http';
import { encodeBody } from './body';
import { nowMs } from './clock';

// Posts notifications over plain HTTP with a keep-alive agent, identically for Beep's admin
// API and the relays' /notify: flat out (closed loop), windowed (at most N posts ahead of the
// slowest phone) or at a fixed rate (open loop).

/** Where and how to post: the URL and the headers (auth) of one system's HTTP API. */
export interface PostTarget {
  url: string;
  headers: Record<string, string>;
}

/** What a posting phase did: counts, statuses, which indexes were accepted and when. */
export interface PostOutcome {
  sent: number;
  accepted: number;
  /** accepted[i] = 1 when post i got a 2xx. */
  acceptedIndexes: Uint8Array;
  /** Non-2xx statuses and transport errors, with their counts. */
  failures: Map<string, number>;
  /** Posts sent again after the server closed an idle keep-alive socket as it was reused. */
  retried: number;
  /** nowMs() of the first request and of the last answer. */
  firstSentAt: number;
  lastAnswerAt: number;
  /** ms the slowest answer took. */
  slowestAnswerMs: number;
}

/** ms an idle pooled socket is kept. */
const FREE_SOCKET_TIMEOUT_MS = 2_000;

/** Transport errors of a reused keep-alive socket that the server closed just before the request (Node's documented race). */
const STALE_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

/** What the posting loops post through: one target's client, or several taking turns. */
export interface Poster {
  /** POSTs a JSON payload; resolves with the status, or with the error code on a transport failure. */
  post(payload: string): Promise<number | string>;
  /** Posts sent a second time because their reused socket turned out to be closed. */
  readonly retried: number;
  /** Closes the idle keep-alive sockets. */
  close(): void;
}

/** One keep-alive HTTP client for a target; reused by every phase of a run. */
export class HttpPoster implements Poster {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(
    private readonly target: PostTarget,
    maxSockets: number,
  ) {
    // `timeout` also bounds how long a socket sits idle in the pool: well inside the server's
    // keep-alive timeout (Node's 5 s), so the agent rarely reuses a socket the server is closing.
    this.agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: FREE_SOCKET_TIMEOUT_MS });
    this.url = new URL(target.url);
  }

  /** Posts sent a second time because their reused socket turned out to be closed. */
  retried = 0;

  /**
   * POSTs a JSON payload; resolves with the status, or with the error code on a transport
   * failure. A reset on a reused idle socket is retried once (counted in `retried`); the
   * receipts are deduplicated by index, so a post the server did see is not counted twice.
   */
  async post(payload: string): Promise<number | string> {
    const first = await this.postOnce(payload);
    if (typeof first === 'number' || !first.reused || !STALE_SOCKET_ERRORS.has(first.error)) {
      return typeof first === 'number' ? first : first.error;
    }
    this.retried++;
    const second = await this.postOnce(payload);
    return typeof second === 'number' ? second : second.error;
  }

  private postOnce(payload: string): Promise<number | { error: string; reused: boolean }> {
    return new Promise((resolve) => {
      const request = http.request(
        this.url,
        {
          method: 'POST',
          agent: this.agent,
          headers: { ...this.target.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: 30_000,
        },
        (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
          response.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, reused: false }));
        },
      );
      request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
      request.on('error', (error: NodeJS.ErrnoException) => resolve({ error: error.code ?? error.message, reused: request.reusedSocket }));
      request.end(payload);
    });
  }

  /** Closes the idle keep-alive sockets. */
  close(): void {
    this.agent.destroy();
  }
}

/** Several targets taking turns post by post (a cluster: each node accepts half the posts). */
export class RoundRobinPoster implements Poster {
  private next = 0;

  constructor(private readonly posters: HttpPoster[]) {}

  get retried(): number {
    return this.posters.reduce((n, p) => n + p.retried, 0);
  }

  post(payload: string): Promise<number | string> {
    const poster = this.posters[this.next];
    this.next = (this.next + 1) % this.posters.length;
    return poster.post(payload);
  }

  close(): void {
    for (const p of this.posters) p.close();
  }
}

/** Priority a phase posts with: Beep's default (field absent) or urgent; the relays ignore it. */
export type PostPriority = 'default' | 'urgent';

/** The JSON every system gets: a title, the phase/index/send-time body, and the priority. */
function payloadFor(phase: string, index: number, sentAtMs: number, priority: PostPriority): string {
  const body = encodeBody(phase, index, sentAtMs);
  return JSON.stringify(priority === 'default' ? { title: `bench ${phase} ${index}`, body } : { title: `bench ${phase} ${index}`, body, priority });
}

function newOutcome(count: number): PostOutcome {
  return { sent: 0, accepted: 0, acceptedIndexes: new Uint8Array(count), failures: new Map(), retried: 0, firstSentAt: NaN, lastAnswerAt: NaN, slowestAnswerMs: 0 };
}

function settle(outcome: PostOutcome, index: number, status: number | string, sentAt: number): void {
  outcome.lastAnswerAt = nowMs();
  outcome.slowestAnswerMs = Math.max(outcome.slowestAnswerMs, outcome.lastAnswerAt - sentAt);
  if (typeof status === 'number' && status >= 200 && status < 300) {
    outcome.accepted++;
    outcome.acceptedIndexes[index] = 1;
  } else {
    const key = String(status);
    outcome.failures.set(key, (outcome.failures.get(key) ?? 0) + 1);
  }
}

/** Posts `count` notifications as fast as `concurrency` requests in flight allow. */
export async function postFlatOut(poster: Poster, phase: string, count: number, concurrency: number): Promise<PostOutcome> {
  const outcome = newOutcome(count);
  let next = 0;
  outcome.firstSentAt = nowMs();
  const worker = async () => {
    while (next < count) {
      const index = next++;
      outcome.sent++;
      const sentAt = nowMs();
      settle(outcome, index, await poster.post(payloadFor(phase, index, sentAt, 'default')), sentAt);
    }
  };
  const retriedBefore = poster.retried;
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  outcome.retried = poster.retried - retriedBefore;
  return outcome;
}

/**
 * Posts `rate` notifications per second for `seconds`, each at its scheduled time whether or
 * not earlier ones were answered (open loop); the body carries the scheduled time, so a
 * stalled sender shows up as latency instead of hiding it (no coordinated omission).
 */
export async function postAtFixedRate(
  poster: Poster,
  phase: string,
  rate: number,
  seconds: number,
  priority: PostPriority,
): Promise<PostOutcome> {
  const count = Math.round(rate * seconds);
  const outcome = newOutcome(count);
  const intervalMs = 1000 / rate;
  const answers: Promise<void>[] = [];
  const retriedBefore = poster.retried;
  const start = nowMs();
  outcome.firstSentAt = start;
  let index = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = nowMs();
      while (index < count && start + index * intervalMs <= now) {
        const i = index++;
        outcome.sent++;
        const sentAt = nowMs();
        answers.push(poster.post(payloadFor(phase, i, start + i * intervalMs, priority)).then((status) => settle(outcome, i, status, sentAt)));
      }
      if (index >= count) return resolve();
      setTimeout(tick, Math.max(0, start + index * intervalMs - nowMs()));
    };
    tick();
  });
  await Promise.all(answers);
  outcome.retried = poster.retried - retriedBefore;
  return outcome;
}

/** How far the slowest phone has got in the current phase: what a windowed poster waits on. */
export interface PhoneProgress {
  /** Unique notifications of the phase the slowest phone has received. */
  slowest(): number;
  /** Resolves when any phone receives something, or after `timeoutMs`. */
  changed(timeoutMs: number): Promise<void>;
}

/**
 * Posts `count` notifications as fast as the phones take them, never more than `window` posts
 * ahead of the slowest phone (a post that was refused does not count against the window) and
 * never more than `concurrency` in flight, so a system that batches can form batches without
 * the backlog growing without bound. One loop decides, woken by an answer or by progress.
 */
export async function postWindowed(
  poster: Poster,
  phase: string,
  count: number,
  window: number,
  concurrency: number,
  phones: PhoneProgress,
): Promise<PostOutcome> {
  const outcome = newOutcome(count);
  const retriedBefore = poster.retried;
  const answers: Promise<void>[] = [];
  let inFlight = 0;
  let answered: (() => void) | null = null;
  let progressed: Promise<void> | null = null;
  outcome.firstSentAt = nowMs();
  for (let next = 0; next < count; ) {
    const refused = outcome.sent - outcome.accepted - inFlight;
    if (inFlight < concurrency && next < phones.slowest() + refused + window) {
      const index = next++;
      const sentAt = nowMs();
      outcome.sent++;
      inFlight++;
      answers.push(
        poster.post(payloadFor(phase, index, sentAt, 'default')).then((status) => {
          inFlight--;
          settle(outcome, index, status, sentAt);
          answered?.();
        }),
      );
      continue;
    }
    progressed ??= phones.changed(100).then(() => {
      progressed = null;
    });
    await Promise.race([progressed, new Promise<void>((resolve) => (answered = resolve))]);
    answered = null;
  }
  await Promise.all(answers);
  outcome.retried = poster.retried - retriedBefore;
  return outcome;
}
