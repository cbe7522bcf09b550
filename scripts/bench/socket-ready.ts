import type { Socket } from 'socket.io-client';

// Both relays' bench clients connect the same way: resolve on `connect`, record any later
// unexpected disconnect as a lost client, and reject with a clear message on `connect_error`.

/** Waits for `socket` to connect; a later drop (not our own close) is pushed to `lost`. */
export function whenConnected(socket: Pick<Socket, 'once' | 'on' | 'close'>, label: string, lost: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.on('disconnect', (reason: string) => {
        if (reason !== 'io client disconnect') lost.push(`${label}: ${reason}`);
      });
      resolve();
    });
    socket.once('connect_error', (error: Error) => {
      socket.close();
      reject(new Error(`${label} could not connect: ${error.message}`));
    });
  });
}
