import { clientAddress } from './client-address';
import { devicesOwing, framesSent, launchDaemon, pairDevice, stopDaemon } from './beep-daemon';
import type { CorePlan } from './cores';
import { mapLimit } from './map-limit';
import type { SystemUnderTest } from './system';

// Beep under test: the real compiled daemon with a user's defaults (temp data dir, port 0),
// posted to on its admin API, its phones paired each from its own loopback address and
// connected to /device over WSS with the CA pinned. After pairing, the daemon is restarted on
// the same data dir, so the RSS before and with phones measures connected phones, not what
// pairing a thousand devices left on the heap (the relays have no pairing to leave anything).

/** Pairings in flight at once: each costs the daemon a token signature. */
const PAIR_CONCURRENCY = 8;

/** Starts a daemon on the server core and waits for its daemon.json. */
export async function startBeep(plan: CorePlan): Promise<SystemUnderTest> {
  let daemon = await launchDaemon(plan).ready;
  const exitProblems = () => (daemon.proc.exitCode !== null || daemon.proc.signalCode !== null ? [`the daemon exited with ${daemon.proc.exitCode ?? daemon.proc.signalCode}`] : []);
  return {
    kind: 'beep',
    get pid() {
      return daemon.proc.pid!;
    },
    get pids() {
      return [daemon.proc.pid!];
    },
    get readyAt() {
      return daemon.readyAt;
    },
    get postTarget() {
      return { url: `${daemon.adminUrl}/api/v1/notifications`, headers: { authorization: `Bearer ${daemon.adminToken}` } };
    },
    async preparePhones(count) {
      const paired = await mapLimit(Array.from({ length: count }), PAIR_CONCURRENCY, (_x, i) =>
        pairDevice(daemon, `bench phone ${i}`, clientAddress(i)),
      );
      const code = await stopDaemon(daemon, { keepDataDir: true });
      if (code !== 0) throw new Error(`the daemon exited with ${code} on SIGTERM after pairing:\n${daemon.output().slice(-2000)}`);
      daemon = await launchDaemon(plan, { dataDir: daemon.dataDir }).ready;
      return { protocol: 'beep', url: daemon.gatewayUrl, ca: daemon.caPem, tokens: paired.map((p) => p.accessToken) };
    },
    undelivered: () => devicesOwing(daemon),
    frames: () => framesSent(daemon),
    problems: exitProblems,
    async stop() {
      const code = await stopDaemon(daemon);
      const logs = daemon.output().trim();
      if (logs) process.stderr.write(`beep daemon output (log level warn):\n${logs.slice(-4000)}\n`);
      return code;
    },
  };
}
