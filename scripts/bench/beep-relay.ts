import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { DEVICE_NAMESPACE, type DeviceToServerEvents, type ServerToDeviceEvents } from '../../app/gateway/events';
import { clientAddress, socketSourceOptions } from './client-address';
import { pairDevice, spawnDaemon, stopDaemon, type BeepDaemon } from './beep-daemon';
import { median } from './stats';
import type { ReceiptSink } from './receipts';
import { mapLimit } from './map-limit';
import type { RelayUnderTest } from './relay-under-test';
import { whenConnected } from './socket-ready';

// Beep under test: the real compiled daemon (defaults, temp data dir, port 0) with N paired
// phones on /device over WSS, CA pinned, acking every batch as a phone that stored it does.

type DeviceSocket = Socket<ServerToDeviceEvents, DeviceToServerEvents>;

/** Connects one paired device; every item of every batch goes to the sink, then the batch is acked. */
function connectDevice(
  daemon: BeepDaemon,
  token: string,
  client: number,
  sink: ReceiptSink,
  opened: DeviceSocket[],
  lost: string[],
): Promise<void> {
  const socket: DeviceSocket = io(`${daemon.gatewayUrl}${DEVICE_NAMESPACE}`, {
    ca: daemon.caPem,
    transports: ['websocket'],
    auth: { token },
    reconnection: false,
    forceNew: true,
    ...socketSourceOptions(client),
  });
  opened.push(socket);
  socket.on('notifications', ({ items }, ack) => {
    const at = performance.now();
    const ids: string[] = [];
    for (const item of items) {
      sink.record(client, item.body, at);
      ids.push(item.id);
    }
    ack({ ack: ids });
  });
  return whenConnected(socket, `beep client ${client}`, lost);
}

/** Time (ms) of one GET /metrics on the admin listener, body included. */
function scrapeMetrics(daemon: BeepDaemon): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const request = http.get(`${daemon.adminUrl}/metrics`, { headers: { authorization: `Bearer ${daemon.adminToken}` } }, (response) => {
      response.resume();
      response.on('end', () =>
        response.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`/metrics answered ${response.statusCode}`)),
      );
    });
    request.on('error', reject);
  });
}

/** Starts a daemon, pairs and connects `clients` devices that report to `sink`. */
export async function startBeep(clients: number, sink: ReceiptSink, metricsScrapes: number): Promise<RelayUnderTest> {
  const daemon = await spawnDaemon();
  const sockets: DeviceSocket[] = [];
  const lost: string[] = [];
  const stop = async () => {
    for (const socket of sockets) socket.close();
    const code = await stopDaemon(daemon);
    const logs = daemon.output().trim();
    if (logs) process.stderr.write(`beep daemon output (log level warn):\n${logs.slice(-4000)}\n`);
    return code;
  };
  try {
    const credentials = await mapLimit(Array.from({ length: clients }), 8, (_x, i) => pairDevice(daemon, `bench phone ${i}`, clientAddress(i)));
    await mapLimit(credentials, 16, (c, i) => connectDevice(daemon, c.accessToken, i, sink, sockets, lost));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: 'beep',
    pid: daemon.proc.pid!,
    postTarget: {
      url: `${daemon.adminUrl}/api/v1/notifications`,
      headers: { authorization: `Bearer ${daemon.adminToken}` },
    },
    unexpectedDisconnects: () => [...lost, ...(daemon.proc.exitCode !== null ? [`daemon exited with ${daemon.proc.exitCode}`] : [])],
    extras: async () => {
      const times: number[] = [];
      for (let i = 0; i < metricsScrapes; i++) times.push(await scrapeMetrics(daemon));
      return { metricsScrapeMs: median(times) };
    },
    stop,
  };
}
