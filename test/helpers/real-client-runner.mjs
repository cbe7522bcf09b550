// Runs one call of a real ntfy or Gotify client package in its own Node process, so the
// ESM-only ones (`ntfy`, `@cityssm/ntfy-publish`, `gotify-client`) load as their users load
// them: jest runs tests as CommonJS in a VM, where they cannot be imported. Driven by
// real-clients.ts: the call is JSON in argv[2]; the outcome is JSON on the last line of stdout.
// Every fetch the package makes is recorded (method, URL, headers sent with credentials masked,
// status, answer), since some of them (gotify-client, @cityssm/ntfy-publish) hide the HTTP
// status from their caller, and what a package sends is not always what its options promise.

const call = JSON.parse(process.argv[2]);
const requests = [];

const realFetch = globalThis.fetch;
const SECRET_HEADERS = new Set(['authorization', 'x-gotify-key']);
globalThis.fetch = async (input, init = {}) => {
  const headers = Object.fromEntries([...new Headers(init.headers)].map(([k, v]) => [k, SECRET_HEADERS.has(k) && v ? '(set)' : v]));
  const response = await realFetch(input, init);
  const body = await response.clone().text();
  requests.push({ method: init.method ?? 'GET', url: String(input), headers, status: response.status, body });
  return response;
};

const clients = {
  async ntfy({ options }) {
    const { publish } = await import('ntfy');
    return publish(options);
  },
  async '@cityssm/ntfy-publish'({ options }) {
    const { default: publish } = await import('@cityssm/ntfy-publish');
    return publish(options);
  },
  async gotify({ options }) {
    const { gotify } = await import('gotify');
    return gotify(options);
  },
  async 'gotify-client'({ host, keys, api, method, args }) {
    const { GotifyClient } = await import('gotify-client');
    const client = new GotifyClient(host, keys);
    return client[api][method](...args);
  },
};

/** What a thrown error tells; `got` (the `gotify` package) carries the answer on it. */
function describe(error) {
  const response = error?.response;
  return {
    name: error?.name ?? 'Error',
    message: String(error?.message ?? error),
    ...(response ? { status: response.statusCode, body: String(response.body ?? '') } : {}),
  };
}

let outcome;
try {
  const value = await clients[call.client](call);
  outcome = { ok: true, value: value === undefined ? null : value, requests };
} catch (error) {
  outcome = { ok: false, error: describe(error), requests };
}
process.stdout.write(`\n${JSON.stringify(outcome)}\n`, () => process.exit(0));
