import net from 'node:net';

// PROXY protocol headers as a balancer writes them (v1 text, v2 binary), and a local TCP
// balancer that forwards each connection to a target port with a header naming the client
// address the test chose for it.

/** A v1 line: `PROXY TCP4 <src> <dst> <sport> <dport>\r\n` (TCP6 for IPv6 sources). */
export function v1Header(source: string, port = 40000, destination?: string): Buffer {
  const six = net.isIPv6(source);
  const dst = destination ?? (six ? '::1' : '127.0.0.1');
  return Buffer.from(`PROXY ${six ? 'TCP6' : 'TCP4'} ${source} ${dst} ${port} 2337\r\n`, 'latin1');
}

export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function ipBytes(address: string): Buffer {
  if (net.isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head, tail] = address.split('::');
  const groups = (s: string | undefined) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

/** A v2 header: PROXY (or LOCAL) over STREAM, with optional TLV bytes after the addresses. */
export function v2Header(source: string | 'local', port = 40000, tlvs: Buffer = Buffer.alloc(0)): Buffer {
  if (source === 'local') return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const six = net.isIPv6(source);
  const src = ipBytes(source);
  const dst = ipBytes(six ? '::1' : '127.0.0.1');
  const ports = Buffer.alloc(4);
  ports.writeUInt16BE(port, 0);
  ports.writeUInt16BE(2337, 2);
  const body = Buffer.concat([src, dst, ports, tlvs]);
  const fixed = Buffer.from([0x21, six ? 0x21 : 0x11, 0, 0]);
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}

/** A local balancer: `header(connectionIndex)` says what each forwarded connection opens with (null: nothing). */
export interface Balancer {
  port: number;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1; each accepted connection is forwarded to `targetPort`, the header `next()` returns written first. */
export function startBalancer(targetPort: number, next: () => Buffer | null): Promise<Balancer> {
  const open = new Set<net.Socket>();
  const server = net.createServer((client) => {
    open.add(client);
    const header = next();
    const upstream = net.connect(targetPort, '127.0.0.1', () => {
      if (header) upstream.write(header);
      client.pipe(upstream);
      upstream.pipe(client);
    });
    open.add(upstream);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    client.on('close', () => open.delete(client));
    upstream.on('close', () => open.delete(upstream));
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            for (const s of open) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
