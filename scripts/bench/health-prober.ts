import path from 'node:path';
import { Worker } from 'node:worker_threads';

// Probes a server's GET /health on a fixed period from its own worker thread (on the client
// core), for the catch-up scenario's "does /health stall" figure.

const WORKER_SCRIPT = path.join(__dirname, 'health-prober-worker.js');

/** Every probe's time (ms), and how many did not answer 200. */
export interface ProbeTimes {
  times: Float64Array;
  failures: number;
}

/** A running prober; stop() ends it and returns the times. */
export class HealthProber {
  private readonly worker: Worker;
  private readonly done: Promise<ProbeTimes>;
  /** Resolves once the first probe has been answered: probing is under way. */
  readonly started: Promise<void>;

  constructor(url: string, intervalMs: number, timeoutMs: number) {
    this.worker = new Worker(WORKER_SCRIPT, { workerData: { url, intervalMs, timeoutMs } });
    let started = () => {};
    this.started = new Promise((resolve) => (started = resolve));
    this.done = new Promise((resolve, reject) => {
      this.worker.on('message', (m: { first: boolean } & ProbeTimes) => (m.first ? started() : resolve(m)));
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`health prober exited with ${code}`)));
    });
    this.done.catch(() => started());
  }

  /** Stops probing after the probe in flight and resolves with every probe's time. */
  async stop(): Promise<ProbeTimes> {
    this.worker.postMessage('stop');
    const result = await this.done;
    await this.worker.terminate();
    return result;
  }
}
