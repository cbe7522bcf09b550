import { execFile } from 'node:child_process';
import path from 'node:path';
import type { NtfyMessageOptions } from '@cityssm/ntfy-publish';
import type { Message as GotifyMessage, MessageResponse } from 'gotify/dist/gotify';
import type { GotifyClient } from 'gotify-client';
import type { Config as NtfyConfig, ResponseData } from 'ntfy/dist/interfaces';
import type { RunningDaemon } from './daemon';

// The real npm client packages of ntfy and Gotify (`ntfy`, `@cityssm/ntfy-publish`, `gotify`,
// `gotify-client`, pinned dev dependencies) driven against the real daemon. Each call runs in
// a child `node` process (real-client-runner.mjs): three of them are ESM-only, and jest's CommonJS VM
// cannot import them without --experimental-vm-modules. The daemon's CA is trusted through
// NODE_EXTRA_CA_CERTS, so the gateway's TLS is checked as the packages check it. Option types
// are the packages' own.

const RUNNER = path.join(__dirname, 'real-client-runner.mjs');
/** A call that has not finished by then is killed (a loaded machine starts Node slowly). */
const CALL_TIMEOUT_MS = 30_000;

/** One HTTP exchange a fetch-based package made (the `gotify` package uses got: see `error`). */
export interface RecordedRequest {
  method: string;
  url: string;
  /** What was sent, names lowercase; Authorization and X-Gotify-Key show as `(set)`. */
  headers: Record<string, string>;
  status: number;
  /** The answer's text. */
  body: string;
}

/** What the package's call gave back, or what it threw, and every request it made. */
export type ClientRun<T> =
  | { ok: true; value: T; requests: RecordedRequest[] }
  | { ok: false; error: { name: string; message: string; status?: number; body?: string }; requests: RecordedRequest[] };

/** The parts of a GotifyClient (its getters), and the methods of each. */
type GotifyApi = 'application' | 'client' | 'current' | 'health' | 'message' | 'plugin' | 'user' | 'version';
type Method<A extends GotifyApi> = { [K in keyof GotifyClient[A]]: GotifyClient[A][K] extends (...args: never[]) => unknown ? K : never }[keyof GotifyClient[A]];
type Fn<A extends GotifyApi, M extends Method<A>> = Extract<GotifyClient[A][M], (...args: never[]) => unknown>;

/** The keys a GotifyClient is built with: `app` for POST /message, `client` for the rest. */
export interface GotifyKeys {
  app?: string;
  client?: string;
}

type Call =
  | { client: 'ntfy'; options: NtfyConfig }
  | { client: '@cityssm/ntfy-publish'; options: NtfyMessageOptions }
  | { client: 'gotify'; options: GotifyMessage & { server: string } }
  | { client: 'gotify-client'; host: string; keys: GotifyKeys; api: GotifyApi; method: string; args: unknown[] };

/** The four packages, bound to one daemon's CA. */
export class RealClients {
  constructor(private readonly caFile: string) {}

  static for(daemon: RunningDaemon): RealClients {
    return new RealClients(path.join(daemon.dataDir, 'certs', 'ca.crt'));
  }

  /** `ntfy`'s publish(config): the answer's JSON, or `Error while publishing message: <status text>`. */
  ntfy<T extends NtfyConfig>(options: T): Promise<ClientRun<ResponseData<T>>> {
    return this.run({ client: 'ntfy', options });
  }

  /** `@cityssm/ntfy-publish`'s default export: true when the answer was 2xx (it cannot send a token). */
  ntfyPublish(options: NtfyMessageOptions): Promise<ClientRun<boolean>> {
    return this.run({ client: '@cityssm/ntfy-publish', options });
  }

  /** `gotify`'s gotify({server, app, ...}): POST /message?token=; got throws on a non-2xx answer. */
  gotify(options: GotifyMessage & { server: string }): Promise<ClientRun<MessageResponse>> {
    return this.run({ client: 'gotify', options });
  }

  /** `new GotifyClient(host, keys)[api][method](...args)`; it parses the answer whatever its status. */
  gotifyClient<A extends GotifyApi, M extends Method<A>>(
    host: string,
    keys: GotifyKeys,
    api: A,
    method: M,
    ...args: Parameters<Fn<A, M>>
  ): Promise<ClientRun<Awaited<ReturnType<Fn<A, M>>>>> {
    return this.run({ client: 'gotify-client', host, keys, api, method: String(method), args });
  }

  private run<T>(call: Call): Promise<ClientRun<T>> {
    const env = { PATH: process.env.PATH, NODE_EXTRA_CA_CERTS: this.caFile };
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [RUNNER, JSON.stringify(call)], { env, timeout: CALL_TIMEOUT_MS }, (error, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as ClientRun<T>);
        } catch {
          reject(new Error(`${call.client} runner gave no outcome (${error?.message ?? 'exit 0'}):\n${stdout}\n${stderr}`));
        }
      });
    });
  }
}

/** The first recorded request with this method and URL path. */
/** A run's value; a failed run throws with the client's error and every request it made. */
export function valueOf<T>(run: ClientRun<T>): T {
  if (!run.ok) throw new Error(`the client failed: ${JSON.stringify(run.error)}; requests: ${JSON.stringify(run.requests)}`);
  return run.value;
}

export function requestTo(run: ClientRun<unknown>, method: string, pathname: string): RecordedRequest | undefined {
  return run.requests.find((r) => r.method.toUpperCase() === method && new URL(r.url).pathname === pathname);
}

/** The answer to that request, its body parsed when it is JSON. */
export function answerTo(run: ClientRun<unknown>, method: string, pathname: string): { status: number; body: any } | undefined {
  const hit = requestTo(run, method, pathname);
  if (!hit) return undefined;
  let body: unknown = hit.body;
  try {
    body = JSON.parse(hit.body);
  } catch {
    /* not JSON */
  }
  return { status: hit.status, body };
}
