import { spawn } from 'node:child_process';
import { AdminClient } from './admin-client';
import type { Io } from './commands';
import { desktopSession } from '../config/session-env';

// `beep dashboard`: asks the daemon (with the admin token) for a one-time login link and
// opens it in the browser, or prints it. The link carries a short-lived nonce, never the
// admin token.

/** The platform's "open this URL" command, or null when there is no desktop to open it on. */
function opener(graphical: boolean): string[] | null {
  if (process.platform === 'darwin') return ['open'];
  if (process.platform === 'win32') return ['cmd', '/c', 'start', '""'];
  return graphical ? ['xdg-open'] : null;
}

export async function dashboardCommand(dataDir: string, open: boolean, io: Io): Promise<number> {
  const client = AdminClient.fromDataDir(dataDir);
  const { body } = await client.request<{ url: string; expiresAt: string }>('POST', '/api/v1/dashboard/links');
  const command = open ? opener(desktopSession().graphical) : null;
  if (command) {
    const child = spawn(command[0], [...command.slice(1), body.url], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
    io.out(`Opening the dashboard in your browser. If nothing opens, visit (once, within a minute):`);
  } else {
    io.out('Open this one-time login link in a browser on this PC (valid once, for a minute):');
  }
  io.out(body.url);
  return 0;
}
