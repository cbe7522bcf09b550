import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';
import { createCertificateAuthority, issueServerCertificate, type CertificateAndKey } from '../../../app/crypto/certificate-authority';
import { ProxyFront, type ProxyRefusal } from '../../../app/http/proxy-front';
import { v1Header, v2Header } from '../../helpers/proxy-balancer';

// The PROXY front in process, on a real HTTPS server: the TLS server takes the balancer's TCP
// socket itself (TLS on Node's native handle, no JavaScript stream in between), so the TLS
// socket reports the TCP connection's own peer address and port, and the front's address book
// finds the client address by them; the book is emptied as connections close.

let ca: CertificateAndKey;
let server: https.Server;
let front: ProxyFront;
let port: number;
const refusals: ProxyRefusal[] = [];
/** What the server saw of each TLS socket it served: its peer address and port, and the client address the book gave. */
const served: { remoteAddress?: string; remotePort?: number; client?: string }[] = [];
const admitted: string[] = [];

beforeAll(async () => {
  const now = new Date();
  ca = await createCertificateAuthority('localhost', now);
  const cert = await issueServerCertificate(ca, { hostnames: ['localhost'], addresses: [] }, now);
  server = https.createServer({ key: cert.keyPem, cert: cert.certPem }, (req, res) => {
    served.push({ remoteAddress: req.socket.remoteAddress, remotePort: req.socket.remotePort, client: front.addresses.clientOf(req.socket) });
    res.end('ok');
  });
  front = new ProxyFront({ from: ['127.0.0.1'], headerTimeoutMs: 5_000, openingTimeoutMs: 5_000, onRefused: (reason) => refusals.push(reason) });
  front.install(server, (_raw, client) => (admitted.push(client), true));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as net.AddressInfo).port;
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** A TCP connection from `localAddress` that writes `header`, then a TLS GET /; the answer's body and the TCP connection's own end (address, port). */
async function through(header: Buffer, localAddress = '127.0.0.1'): Promise<{ body: string; local: { address?: string; port?: number } }> {
  const tcp = net.connect({ host: '127.0.0.1', port, localAddress });
  await new Promise((resolve) => tcp.once('connect', resolve));
  const local = { address: tcp.localAddress, port: tcp.localPort };
  tcp.write(header);
  const secure = tls.connect({ socket: tcp, ca: ca.certPem, servername: 'localhost' });
  await new Promise((resolve) => secure.once('secureConnect', resolve));
  secure.write('GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  let text = '';
  secure.on('data', (c: Buffer) => (text += c.toString()));
  await new Promise((resolve) => secure.once('close', resolve));
  return { body: text.split('\r\n\r\n')[1] ?? '', local };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(check()).toBe(true);
}

test('the TLS socket is the TCP connection itself: its peer address and port are the balancer connection’s, and the book gives the header’s client', async () => {
  for (const [header, client] of [
    [v1Header('198.51.100.7'), '198.51.100.7'],
    [v2Header('2001:db8::9'), '2001:db8::9'],
  ] as const) {
    const before = served.length;
    const { body, local } = await through(header);
    expect(body).toBe('ok');
    // Over a JavaScript stream the TLS socket has no peer at all (remoteAddress undefined).
    expect(served[before]).toEqual({ remoteAddress: local.address, remotePort: local.port, client });
    expect(admitted[admitted.length - 1]).toBe(client); // the connection gate counted it under the phone's address
  }
});

test('an unlisted peer is served under its own address, and a PROXY header from it is refused', async () => {
  const before = served.length;
  // No header: the ClientHello's first bytes are sniffed, then put back for the TLS server.
  expect((await through(Buffer.alloc(0), '127.0.0.2')).body).toBe('ok');
  expect(served[before]).toMatchObject({ remoteAddress: '127.0.0.2', client: '127.0.0.2' });
  const tcp = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2' });
  tcp.on('error', () => undefined);
  tcp.write(v1Header('203.0.113.1'));
  await new Promise((resolve) => tcp.once('close', resolve));
  expect(refusals).toEqual(['unlisted_sender']);
});

test('the address book is emptied when the connections close', async () => {
  const open = await Promise.all(
    Array.from({ length: 5 }, async (_, i) => {
      const tcp = net.connect({ host: '127.0.0.1', port });
      await new Promise((resolve) => tcp.once('connect', resolve));
      tcp.write(v1Header(`198.51.100.${20 + i}`));
      return tcp;
    }),
  );
  await until(() => front.addresses.size === 5);
  for (const tcp of open) tcp.destroy();
  await until(() => front.addresses.size === 0);
});
