import { AdminClient } from './admin-client';
import type { Io } from './commands';

// `beep token create|list|revoke`: API tokens for ntfy and Gotify clients, via the admin API.

interface TokenView {
  id: number;
  kind: 'publish' | 'subscribe';
  name: string;
  topics: string[] | null;
  createdAt: string;
  lastUsedAt: string | null;
  token?: string;
}

export interface CreateOptions {
  publish?: boolean;
  subscribe?: boolean;
  topics?: string;
  name?: string;
  json?: boolean;
}

export async function tokenCreateCommand(dataDir: string, options: CreateOptions, io: Io): Promise<number> {
  if (Boolean(options.publish) === Boolean(options.subscribe)) {
    io.err('give exactly one of --publish or --subscribe');
    return 2;
  }
  const client = AdminClient.fromDataDir(dataDir);
  const topics = options.topics === undefined ? null : options.topics.split(',').map((t) => t.trim()).filter(Boolean);
  const { body } = await client.request<TokenView>('POST', '/api/v1/tokens', {
    kind: options.publish ? 'publish' : 'subscribe',
    ...(options.name !== undefined ? { name: options.name } : {}),
    ...(topics ? { topics } : {}),
  });
  if (options.json) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  io.out(body.token!);
  io.err(`token ${body.id} (${body.kind}, ${body.name}) for ${body.topics ? `topics ${body.topics.join(', ')}` : 'every topic'}; it is shown only now`);
  return 0;
}

export async function tokenListCommand(dataDir: string, json: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<TokenView[]>('GET', '/api/v1/tokens');
  if (json) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.length === 0) {
    io.out('No API tokens. Create one with `beep token create --publish` or `--subscribe`.');
    return 0;
  }
  const rows = body.map((t) => [String(t.id), t.kind, t.name, t.topics ? t.topics.join(',') : '*', t.lastUsedAt ?? 'never']);
  const header = ['ID', 'KIND', 'NAME', 'TOPICS', 'LAST USED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) io.out(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  return 0;
}

export async function tokenRevokeCommand(dataDir: string, id: string, io: Io): Promise<number> {
  if (!/^\d+$/.test(id)) {
    io.err(`"${id}" is not a token id (see beep token list)`);
    return 2;
  }
  await AdminClient.fromDataDir(dataDir).request('DELETE', `/api/v1/tokens/${id}`);
  io.out(`revoked token ${id}`);
  return 0;
}
