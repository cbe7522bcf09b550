import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Server } from 'socket.io';

// The baselines, run as their own process: the relay a user would write in an afternoon.
// Express takes POST /notify and socket.io sends it on, and that is all: no persistence, no
// batching, no redelivery. Same transports as Beep (loopback HTTP in, WSS out with a
// self-signed certificate) so the comparison is about the relay, not TLS. Two modes:
//   RELAY_MODE=broadcast  one io.emit per post, encoded once for every socket (no acks);
//   RELAY_MODE=ack        one emit per socket with an ack callback: the floor of a per-device
//                         protocol without batching (each frame encoded, sent, acked alone).
//
//   RELAY_MODE=… RELAY_TOKEN=… RELAY_CERT=server.crt RELAY_KEY=server.key node baseline-relay.js
//   → prints {"apiPort":…, "socketPort":…} once both listen

const token = process.env.RELAY_TOKEN ?? '';
const bearer = `Bearer ${token}`;
const perSocketAck = process.env.RELAY_MODE === 'ack';
/** The ack callback of the per-socket mode: socket.io keeps it until the client acks. */
const acked = () => undefined;

const app = express();
app.use(express.json());
app.post('/notify', (req, res) => {
  if (req.headers.authorization !== bearer) return void res.status(401).json({ error: 'unauthorized' });
  const notification = { id: crypto.randomUUID(), ...req.body, createdAt: new Date().toISOString() };
  if (perSocketAck) {
    for (const socket of io.of('/').sockets.values()) socket.emit('notification', notification, acked);
  } else {
    io.emit('notification', notification);
  }
  res.json({ id: notification.id });
});

const api = http.createServer(app);
const gateway = https.createServer({ cert: fs.readFileSync(process.env.RELAY_CERT!), key: fs.readFileSync(process.env.RELAY_KEY!) });
const io = new Server(gateway, { serveClient: false });
io.use((socket, next) => (socket.handshake.auth?.token === token ? next() : next(new Error('unauthorized'))));

/** Binds a server on loopback, any free port. */
function listen(server: http.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

void Promise.all([listen(api), listen(gateway)]).then(([apiPort, socketPort]) => {
  process.stdout.write(`${JSON.stringify({ apiPort, socketPort })}\n`);
});

process.on('SIGTERM', () => {
  io.close();
  api.closeAllConnections();
  api.close(() => process.exit(0));
});
