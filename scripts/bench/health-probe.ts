import http from 'node:http';
import { nowMs } from './clock';

// One GET /health, timed: used by the prober thread during a catch-up and by the catch-up
// scenario to see when a restarted daemon first answers.

/** How one probe went: its time (ms) and the HTTP status, or the transport error's code. */
export interface ProbeResult {
  ms: number;
  status: number | string;
}

/** GETs `url` (through `agent`, or a fresh connection) and times it until the body has been read. */
export function probeHealth(url: string, agent: http.Agent | false, timeoutMs: number): Promise<ProbeResult> {
  const started = nowMs();
  return new Promise((resolve) => {
    const request = http.get(url, { agent, timeout: timeoutMs }, (response) => {
      response.resume();
      response.on('end', () => resolve({ ms: nowMs() - started, status: response.statusCode ?? 0 }));
      response.on('error', (error: NodeJS.ErrnoException) => resolve({ ms: nowMs() - started, status: error.code ?? error.message }));
    });
    request.on('timeout', () => request.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    request.on('error', (error: NodeJS.ErrnoException) => resolve({ ms: nowMs() - started, status: error.code ?? error.message }));
  });
}
