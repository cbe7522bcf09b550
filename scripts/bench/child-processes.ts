import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';

// Every relay process the bench spawned and that is still alive, so an abnormal end of the
// bench (crash, signal, closed stdout) never leaves a daemon or baseline running behind it.

const live = new Map<ChildProcess, string | undefined>();

/** Remembers a spawned child (and the temp dir to remove with it) until it exits. */
export function trackChild(proc: ChildProcess, tempDir?: string): void {
  live.set(proc, tempDir);
  proc.once('exit', () => live.delete(proc));
}

/** SIGKILLs every tracked child still running and removes its temp dir; synchronous, for process.on('exit'). */
export function killTrackedChildren(): void {
  for (const [proc, tempDir] of live) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
  }
}
