import fs from 'node:fs';

// D-Bus addresses ("unix:path=/run/user/1000/bus,guid=…;tcp:host=…") reduced to the one a
// client can dial, and whether it can be dialled right now.

export interface DialableAddress {
  /** What dbus-next is given. */
  address: string;
  /** The socket file, for unix:path addresses (absent until the bus is up). */
  socketFile: string | null;
}

function unescape(value: string): string {
  return value.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** The first address of the list Beep can use; null when none is (e.g. only `launchd:`). */
export function dialable(addresses: string): DialableAddress | null {
  for (const entry of addresses.split(';')) {
    const colon = entry.indexOf(':');
    if (colon < 0) continue;
    const transport = entry.slice(0, colon);
    const params = new Map(
      entry
        .slice(colon + 1)
        .split(',')
        .filter(Boolean)
        .map((kv) => [kv.slice(0, kv.indexOf('=')), unescape(kv.slice(kv.indexOf('=') + 1))] as [string, string]),
    );
    if (transport === 'unix' && params.get('path')) {
      const file = params.get('path')!;
      return { address: `unix:path=${file}`, socketFile: file };
    }
    // Node dials Linux abstract sockets natively with a leading NUL.
    if (transport === 'unix' && params.get('abstract')) return { address: `unix:socket=\u0000${params.get('abstract')}`, socketFile: null };
    if (transport === 'tcp' && params.get('port')) return { address: `tcp:host=${params.get('host') ?? 'localhost'},port=${params.get('port')}`, socketFile: null };
  }
  return null;
}

/** Why the bus cannot be dialled now, or null when it may be. */
export function unavailableReason(target: DialableAddress): string | null {
  if (target.socketFile && !fs.existsSync(target.socketFile)) return `no session bus socket at ${target.socketFile}`;
  return null;
}
