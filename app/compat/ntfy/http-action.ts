import dns from 'node:dns';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { NotificationAction } from '../../domain/action';
import { BeepError } from '../../domain/errors';

// Performs an ntfy http action for a phone (the web app cannot: its CSP, mixed content and
// CORS stop it). Only to hosts the user listed (compat.ntfy.httpActionHosts, empty by default);
// the name is resolved once and every address it gives is checked, so a listed name that
// resolves to a loopback, link-local, unspecified or multicast address is refused unless that
// address is listed too (no DNS trick reaches this PC's own services); the request then goes to
// the checked address (the URL's host still in Host and TLS SNI). No redirects are followed;
// the answer is read up to a cap, the whole exchange bounded by a timeout.

/** The user's rules for performed http actions (config compat.ntfy). */
export interface HttpActionPolicy {
  hosts: readonly string[];
  timeoutMs: number;
  maxResponseBytes: number;
  /** Characters of the answer handed back to the phone. */
  resultChars: number;
}

/** Resolves a host name to every address it has (dns.lookup with all: true by default). */
export type ResolveAll = (hostname: string) => Promise<{ address: string; family: number }[]>;

/** What the phone is shown of the answer. */
export interface HttpActionResult {
  status: number;
  body: string;
  truncated: boolean;
}

const systemResolve: ResolveAll = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

/** `[::1]` and `::1` alike, lowercase. */
function bare(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/** Loopback, link-local, unspecified and multicast addresses: never reached unless listed. */
export function isSpecialAddress(address: string): boolean {
  const a = bare(address);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isSpecialAddress(mapped[1]);
  if (net.isIPv4(a)) {
    const [o1, o2] = a.split('.').map(Number);
    return o1 === 127 || o1 === 0 || (o1 === 169 && o2 === 254) || o1 >= 224;
  }
  if (net.isIPv6(a)) return a === '::1' || a === '::' || /^fe[89ab]/.test(a) || /^ff/.test(a);
  return true;
}

/** Runs one http action under the policy; throws action_forbidden, action_timeout or action_failed. */
export class HttpActionRunner {
  private readonly listed: Set<string>;

  constructor(
    private readonly policy: HttpActionPolicy,
    private readonly resolve: ResolveAll = systemResolve,
  ) {
    this.listed = new Set(policy.hosts.map(bare));
  }

  /** The address to connect to, once the host and every address it resolves to pass the list. */
  async check(url: URL): Promise<string> {
    const host = bare(url.hostname);
    if (!this.listed.has(host)) throw new BeepError('action_forbidden', `"${host}" is not on compat.ntfy.httpActionHosts; add it there to let phones call it.`);
    let addresses: string[];
    if (net.isIP(host)) addresses = [host];
    else {
      try {
        addresses = (await this.resolve(host)).map((r) => r.address);
      } catch (error) {
        throw new BeepError('action_failed', `"${host}" could not be resolved (${(error as NodeJS.ErrnoException).code ?? 'error'}).`);
      }
    }
    if (addresses.length === 0) throw new BeepError('action_failed', `"${host}" has no address.`);
    const special = addresses.find((a) => isSpecialAddress(a) && !this.listed.has(bare(a)));
    if (special) {
      throw new BeepError('action_forbidden', `"${host}" resolves to ${special}, a loopback, link-local or multicast address; list that address in compat.ntfy.httpActionHosts to allow it.`);
    }
    return addresses[0];
  }

  async perform(action: NotificationAction): Promise<HttpActionResult> {
    const url = new URL(action.url);
    const address = await this.check(url);
    return this.send(url, address, action);
  }

  private send(url: URL, address: string, action: NotificationAction): Promise<HttpActionResult> {
    const { timeoutMs } = this.policy;
    const secure = url.protocol === 'https:';
    const host = bare(url.hostname);
    const headers: Record<string, string> = { 'user-agent': 'Beep (ntfy http action)', ...action.headers, host: url.host };
    const body = action.body === undefined ? undefined : Buffer.from(action.body, 'utf8');
    if (body) headers['content-length'] = String(body.length);
    const options: https.RequestOptions = {
      host: address,
      port: url.port || (secure ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      method: action.method ?? 'POST',
      headers,
      // The certificate is checked against the URL's name, not the address connected to.
      ...(secure && !net.isIP(host) ? { servername: host } : {}),
    };
    return new Promise<HttpActionResult>((resolve, reject) => {
      let req: http.ClientRequest;
      try {
        req = (secure ? https : http).request(options);
      } catch (error) {
        // A header or method Node refuses to send: the request never left.
        return reject(new BeepError('action_failed', `The request could not be made (${(error as Error).message}).`));
      }
      const timer = setTimeout(() => {
        reject(new BeepError('action_timeout', `${url.host} did not answer within ${timeoutMs} ms.`));
        req.destroy();
      }, timeoutMs);
      const settle = (outcome: Promise<HttpActionResult>) => outcome.then(resolve, reject).finally(() => clearTimeout(timer));
      req.on('response', (res) => void settle(this.read(res)));
      req.on('error', (error: NodeJS.ErrnoException) => void settle(Promise.reject(new BeepError('action_failed', `The request to ${url.host} failed (${error.code ?? error.message}).`))));
      req.end(body);
    });
  }

  /** The answer's status and its first bytes: at most maxResponseBytes read, the rest dropped unread. */
  private read(res: http.IncomingMessage): Promise<HttpActionResult> {
    const { maxResponseBytes, resultChars } = this.policy;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let capped = false;
      const done = () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text.slice(0, resultChars), truncated: capped || text.length > resultChars });
      };
      res.on('data', (chunk: Buffer) => {
        if (capped) return;
        const room = maxResponseBytes - size;
        if (chunk.length <= room) {
          chunks.push(chunk);
          size += chunk.length;
          return;
        }
        chunks.push(chunk.subarray(0, room));
        capped = true;
        done();
        res.destroy();
      });
      res.on('end', done);
      res.on('error', (error) => reject(new BeepError('action_failed', `The answer broke off (${error.message}).`)));
      res.on('close', () => res.complete || capped || reject(new BeepError('action_failed', 'The answer broke off.')));
    });
  }
}
