import { parentPort, workerData } from 'node:worker_threads';
import type { Socket } from 'socket.io-client';
import { nowMs } from './clock';
import type { FleetWorkerData, FromFleet, ToFleet } from './fleet-messages';
import { mapLimit } from './map-limit';
import { connectPhone, type FrameHandler } from './phone-connect';
import { PhoneReceipts, PROGRESS_TICK } from './phone-receipts';

// A worker thread holding a share of the phones (its own event loop, on the client core with
// the rest of the bench): connects them, tallies what they receive per phase, and bumps the
// shared progress array after every frame so the poster's window moves.

const data = workerData as FleetWorkerData;
const port = parentPort!;
const progress = new Int32Array(data.progress);
const sockets: Socket[] = [];
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
    Atomics.add(progress, PROGRESS_TICK, 1);
    Atomics.notify(progress, PROGRESS_TICK);
  };
}

async function connectAll(): Promise<void> {
  const startedAt = nowMs();
  const lost = (message: string) => reply({ type: 'lost', message });
  try {
    await mapLimit(data.spec.tokens, data.connectConcurrency, (token, i) =>
      connectPhone(data.spec, token, data.firstPhone + i, onFrame(i), lost, sockets),
    );
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
