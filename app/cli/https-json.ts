import crypto from 'node:crypto';
import https from 'node:https';

// JSON over HTTPS to the gateway with the Beep CA pinned (fetch cannot take a CA).

export interface HttpsJsonOptions {
  method?: string;
  body?: unknown;
  /** The CA to trust; undefined only for the first CA download, whose fingerprint is then checked. */
  ca?: string;
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
  /** The local IPv4 address to connect from (the bench gives each simulated phone its own). */
  localAddress?: string;
}

export interface HttpsJsonResponse<T> {
  status: number;
  body: T;
  text: string;
}

/** TLS verification failures that a CA other than the pinned one would cause. */
const UNTRUSTED_CHAIN = /CERT|SIGNATURE|ISSUER/;

/** A pinned CA that is no longer the PC's: the words a person needs, with both pins. */
export class CaChangedError extends Error {
  readonly code = 'ca_changed';
  constructor(
    readonly pinned: string,
    readonly served: string,
  ) {
    super(`the PC's certificate authority changed: pair again (pinned ${pinned}, the PC now has ${served})`);
    this.name = 'CaChangedError';
  }
}

/**
 * After a connection refused the pinned CA: the CA the gateway serves now, when it is another.
 * The download is unverified on purpose; it is only compared, never trusted.
 */
export async function changedCa(gatewayUrl: string, pinnedCaPem: string): Promise<CaChangedError | null> {
  try {
    const { status, text } = await httpsJson<string>(`${new URL(gatewayUrl).origin}/ca.crt`);
    if (status !== 200) return null;
    const pinned = pemFingerprint(pinnedCaPem);
    const served = pemFingerprint(text);
    return served === pinned ? null : new CaChangedError(pinned, served);
  } catch {
    return null;
  }
}

/** JSON over HTTPS; a refused chain under a pinned CA that changed rejects with CaChangedError. */
export async function httpsJson<T>(url: string, options: HttpsJsonOptions = {}): Promise<HttpsJsonResponse<T>> {
  try {
    return await request<T>(url, options);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (options.ca === undefined || !UNTRUSTED_CHAIN.test(code)) throw error;
    throw (await changedCa(url, options.ca)) ?? error;
  }
}

function request<T>(url: string, options: HttpsJsonOptions): Promise<HttpsJsonResponse<T>> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const request = https.request(
      url,
      {
        method: options.method ?? 'GET',
        ca: options.ca,
        rejectUnauthorized: options.ca !== undefined,
        ...(options.localAddress ? { localAddress: options.localAddress, family: 4 } : {}),
        headers: {
          ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          ...options.headers,
        },
        timeout: 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown = text;
          if ((response.headers['content-type'] ?? '').includes('json') && text) body = JSON.parse(text);
          resolve({ status: response.statusCode ?? 0, body: body as T, text });
        });
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within 10 s`)));
    request.on('error', reject);
    request.end(payload);
  });
}

/** 'sha256/<hex>' of a PEM certificate, as daemon.json and the pairing URL carry it. */
export function pemFingerprint(pem: string): string {
  return `sha256/${crypto.createHash('sha256').update(new crypto.X509Certificate(pem).raw).digest('hex')}`;
}

/** Downloads the gateway's CA and accepts it only if it matches the pinned fingerprint. */
export async function fetchPinnedCa(gatewayUrl: string, fingerprint: string): Promise<string> {
  const { status, text } = await httpsJson<string>(`${gatewayUrl}/ca.crt`);
  if (status !== 200) throw new Error(`${gatewayUrl}/ca.crt answered HTTP ${status}`);
  const actual = pemFingerprint(text);
  if (actual.toLowerCase() !== fingerprint.toLowerCase()) {
    throw new Error(`the gateway's CA fingerprint ${actual} does not match the pinned ${fingerprint}: refusing to pair`);
  }
  return text;
}
