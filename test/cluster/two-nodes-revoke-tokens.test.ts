import { Phone } from '../helpers/phone';
import type { RunningDaemon } from '../helpers/daemon';
import { type NodePair, usePair } from './two-nodes';

// A revoke on A ends the phone's tokens on both nodes: its access token no longer opens a socket
// and its refresh token no longer gives a new access token, on A and on B, whichever node the
// phone tries next (every token check asks Redis, so B need not have heard of the revoke).

jest.setTimeout(120_000);

let nodes: NodePair;

usePair({ phones: 1 }, (started) => ({ nodes } = started));

/** The connect_error code a socket with `token` gets from `node` ('connected' when it is let in). */
async function connectWith(node: RunningDaemon, phone: Phone, token: string): Promise<string | undefined> {
  const attempt = new Phone(phone.credentials);
  return attempt.connect(node, token).then(
    () => {
      attempt.disconnect();
      return 'connected';
    },
    (e: { code?: string }) => e.code,
  );
}

test('after a revoke on A the phone\'s access and refresh tokens fail on A and on B', async () => {
  const { a, b } = nodes;
  const phone = new Phone(nodes.phones[0]);
  const { accessToken, refreshToken } = phone.credentials;
  // Before: the tokens work on both nodes (the refresh is not spent: only the access token is tried).
  for (const node of [a, b]) expect(await connectWith(node, phone, accessToken)).toBe('connected');

  expect((await a.admin('DELETE', `/api/v1/devices/${phone.credentials.deviceId}`)).status).toBe(204);

  for (const [name, node] of [['A', a], ['B', b]] as const) {
    const socket = await connectWith(node, phone, accessToken);
    expect({ node: name, socket }).toEqual({ node: name, socket: expect.stringMatching(/^(device_revoked|invalid_token)$/) });
    const refreshed = await node.gateway<{ error?: { code: string } }>('POST', '/api/v1/token', { refreshToken });
    expect({ node: name, status: refreshed.status }).toEqual({ node: name, status: 401 });
    expect(refreshed.body.error?.code).toMatch(/^(device_revoked|invalid_token|refresh_token_invalid)$/);
  }
});
