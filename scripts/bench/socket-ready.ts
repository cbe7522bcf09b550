import type { Socket } from 'socket.io-client';

// Every bench phone connects the same way: resolve on `connect`, report any later unexpected
// disconnect as a lost phone, and reject with a clear message on `connect_error`.

/** Waits for `socket` to connect; a later drop (not our own close) is reported to `onLost`. */
export function whenConnected(socket: Pick<Socket, 'once' | 'on' | 'close'>, label: string, onLost: (message: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('connect', () => {
      socket.on('disconnect', (reason: string) => {
        if (reason !== 'io client disconnect') onLost(`${label}: ${reason}`);
      });
      resolve();
    });
    socket.once('connect_error', (error: Error) => {
      socket.close();
      reject(new Error(`${label} could not connect: ${error.message}`));
    });
  });
}
