import tls from 'node:tls';
import { parentPort, workerData } from 'node:worker_threads';
import { nowMs } from './clock';
import type { FleetWorkerData, FromFleet, ToFleet } from './fleet-messages';
import { mapLimit } from './map-limit';
import { connectPhone, type FrameHandler, type PhoneSocket } from './phone-connect';
import { PhoneReceipts, PROGRESS_TICK } from './phone-receipts';

// A worker thread holding a share of the phones (its own event loop, on the client core with
// the rest of the bench): connects them, tallies what they receive per phase, and counts each
// phone's receipts in shared memory, waking the poster once per loop turn so its window moves.

const data = workerData as FleetWorkerData;
const port = parentPort!;
const progress = new Int32Array(data.progress);
const tlsContext = tls.createSecureContext({ ca: data.spec.ca });
const sockets: PhoneSocket[] = [];
let current: PhoneReceipts | null = null;
/** Receipts while no phase was running (late redeliveries), added to the next phase's strays. */
let strays = 0;

const reply = (message: FromFleet) => port.postMessage(message);

function onFrame(phone: number): FrameHandler {
  return (bodies, atMs) => {
    const receipts = current;
    if (!receipts) {
      strays += bodies.length;
      return;
    }
    for (const body of bodies) receipts.record(phone, body, atMs);
    if (!tickPending) {
      tickPending = true;
      setImmediate(tick);
    }
  };
}

let tickPending = false;
/** Wakes the poster at most once per event-loop turn, however many frames the turn read. */
function tick(): void {
  tickPending = false;
  Atomics.add(progress, PROGRESS_TICK, 1);
  Atomics.notify(progress, PROGRESS_TICK);
}

async function connectAll(): Promise<void> {
  const startedAt = nowMs();
  const lost = (message: string) => reply({ type: 'lost', message });
  try {
    await mapLimit(data.spec.tokens, data.connectConcurrency, async (token, i) => {
      // A cluster's phones each connect to their own node.
      const spec = data.spec.urls ? { ...data.spec, url: data.spec.urls[i] } : data.spec;
      sockets.push(await connectPhone(spec, tlsContext, token, data.firstPhone + i, onFrame(i), lost));
    });
    reply({ type: 'connected', startedAt, connectedAt: nowMs() });
  } catch (error) {
    reply({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

port.on('message', (message: ToFleet) => {
  switch (message.type) {
    case 'connect':
      void connectAll();
      return;
    case 'phase':
      current = new PhoneReceipts(message.phase, data.spec.tokens.length, message.capacity, message.trackLatency, progress, data.firstPhone);
      return reply({ type: 'phase-ready' });
    case 'missing':
      return reply({ type: 'missing', missing: current ? current.missing(message.accepted) : 0 });
    case 'end-phase': {
      const result = current ? current.result(message.accepted) : null;
      current = null;
      if (!result) return reply({ type: 'failed', message: 'end-phase without a phase' });
      result.strays += strays;
      strays = 0;
      return port.postMessage({ type: 'phase-result', result } satisfies FromFleet, [result.latencies.buffer as ArrayBuffer]);
    }
    case 'close':
      for (const socket of sockets) socket.close();
      return reply({ type: 'closed' });
  }
});
