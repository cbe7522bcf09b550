import fs from 'node:fs';

// Who is listening on a TCP port, for a clear "port in use" message. Linux only (it reads
// /proc); elsewhere, or when the holder belongs to another user, the answer is undefined.

/** The pid and command line of the process listening on `port`, when this user can see it. */
export function portHolder(port: number): { pid: number; command: string } | undefined {
  if (process.platform !== 'linux') return undefined;
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const entry of safeReadDir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    for (const fd of safeReadDir(`/proc/${entry}/fd`)) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const match = /^socket:\[(\d+)\]$/.exec(target);
      if (match && inodes.has(match[1])) return { pid: Number(entry), command: commandLine(Number(entry)) };
    }
  }
  return undefined;
}

/** TCP state 0A is LISTEN; local_address is hex `addr:port`; the inode is the tenth field. */
function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 9 && fields[3] === '0A' && fields[1].endsWith(`:${hexPort}`)) inodes.add(fields[9]);
    }
  }
  return inodes;
}

function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ').slice(0, 200);
  } catch {
    return '?';
  }
}

function safeReadDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
