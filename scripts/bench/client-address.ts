// Each bench client gets its own loopback source address, as each phone on a LAN has its own
// IP: Beep budgets gateway requests and handshakes per IP, and 100 phones behind one address
// is not the scenario. Linux routes all of 127.0.0.0/8 to lo; elsewhere every client shares
// the default address.

/** Source address for client `index` (127.0.0.2, 127.0.0.3, …), or undefined off Linux. */
export function clientAddress(index: number): string | undefined {
  if (process.platform !== 'linux') return undefined;
  const n = index + 1; // 127.0.0.1 stays the bench's own (posting) address
  return `127.0.${Math.floor(n / 254)}.${(n % 254) + 1}`;
}

/**
 * Connection options (for `ws` and `https`) that make client `index` connect from its own
 * address over IPv4.
 */
export function socketSourceOptions(index: number): Record<string, unknown> {
  const localAddress = clientAddress(index);
  return localAddress ? { localAddress, family: 4 } : {};
}
