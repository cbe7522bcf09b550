import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { nowMs, sleep } from './clock';
import { probeHealth } from './health-probe';

// A worker thread that GETs /health every `intervalMs` over one keep-alive connection until told
// to stop, then sends back every probe's time. Its own event loop, so what the phones do on
// the main side never delays a probe.

const { url, intervalMs, timeoutMs } = workerData as { url: string; intervalMs: number; timeoutMs: number };
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const times: number[] = [];
let failures = 0;
let stopping = false;

parentPort!.on('message', () => (stopping = true));

void (async () => {
  let next = nowMs();
  while (!stopping) {
    const probe = await probeHealth(url, agent, timeoutMs);
    times.push(probe.ms);
    if (probe.status !== 200) failures++;
    if (times.length === 1) parentPort!.postMessage({ first: true });
    // Probes start every intervalMs; one that took longer is followed at once, never overlapped.
    next += intervalMs;
    const wait = next - nowMs();
    if (wait > 0) await sleep(wait);
    else next = nowMs();
  }
  agent.destroy();
  parentPort!.postMessage({ first: false, times: Float64Array.from(times), failures });
})();
