import fs from 'node:fs';
import path from 'node:path';
import { DAEMON_NODE_FLAGS } from '../../../app/node-flags';
import { startDaemon } from '../../helpers/daemon';

// The daemon's V8 flags reach every way Beep starts it: the service units (service.test.ts),
// `npm start`, and the daemons these tests start, which run as the service runs them.

test('npm start passes the daemon node flags', () => {
  const pkg = JSON.parse(fs.readFileSync(path.resolve('package.json'), 'utf8')) as { scripts: Record<string, string> };
  expect(pkg.scripts.start).toBe(`node ${DAEMON_NODE_FLAGS.join(' ')} dist/app/main.js start`);
});

test('a daemon started as the service starts it runs with them', async () => {
  const daemon = await startDaemon();
  try {
    const argv = fs.readFileSync(`/proc/${daemon.proc.pid}/cmdline`, 'utf8').split('\0');
    for (const flag of DAEMON_NODE_FLAGS) expect(argv).toContain(flag);
  } finally {
    await daemon.stop();
  }
});
