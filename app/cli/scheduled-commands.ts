import { AdminClient } from './admin-client';
import type { Io } from './commands';

// `beep scheduled list|cancel`: scheduled notifications (ntfy Delay/At/In) not yet due, via the admin API.

interface ScheduledView {
  id: string;
  dueAt: string;
  createdAt: string;
  title: string;
  body: string;
  app: string;
  priority: number;
  topic: string | null;
}

export async function scheduledListCommand(dataDir: string, json: boolean, io: Io): Promise<number> {
  const { body } = await AdminClient.fromDataDir(dataDir).request<ScheduledView[]>('GET', '/api/v1/scheduled');
  if (json) {
    io.out(JSON.stringify(body, null, 2));
    return 0;
  }
  if (body.length === 0) {
    io.out('Nothing is scheduled. ntfy publishers schedule with a Delay, At or In header.');
    return 0;
  }
  const rows = body.map((s) => [s.id, s.dueAt, s.topic ?? '-', String(s.priority), s.title]);
  const header = ['ID', 'DUE', 'TOPIC', 'PRIO', 'TITLE'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  for (const row of [header, ...rows]) io.out(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  return 0;
}

export async function scheduledCancelCommand(dataDir: string, id: string, io: Io): Promise<number> {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) {
    io.err(`"${id}" is not a scheduled notification id (see beep scheduled list)`);
    return 2;
  }
  await AdminClient.fromDataDir(dataDir).request('DELETE', `/api/v1/scheduled/${id}`);
  io.out(`cancelled ${id}: it will not be sent`);
  return 0;
}
