import { ProgressSaver } from '../../../app/delivery/progress-saver';
import type { ProgressWrite } from '../../../app/delivery/ports';
import { ManualTimers } from '../queue/manual-timers';
import { settle } from './fakes';

const write = (deviceId: string, watermark: number): ProgressWrite => ({ deviceId, priorities: [{ priority: 3, watermark, ackedAbove: [] }] });

describe('ProgressSaver', () => {
  it('coalesces: one write per interval holding each device once, with what it held at write time', async () => {
    const timers = new ManualTimers();
    const saved: ProgressWrite[][] = [];
    const saver = new ProgressSaver(async (w) => void saved.push(w), timers, 200, () => undefined);
    let watermark = 1;
    saver.mark('a', () => write('a', watermark));
    watermark = 5;
    saver.mark('a', () => write('a', watermark));
    saver.mark('b', () => null); // nothing moved after all
    expect(timers.pendingCount).toBe(1);
    timers.advance(200);
    await settle();
    expect(saved).toEqual([[write('a', 5)]]);
    expect(saver.pending).toBe(0);
    timers.advance(1000);
    await settle();
    expect(saved).toHaveLength(1);
  });

  it('flush writes now; a failed write is reported and the next one still goes', async () => {
    const timers = new ManualTimers();
    const errors: unknown[] = [];
    let fail = true;
    const saved: string[] = [];
    const saver = new ProgressSaver(
      async (w) => {
        if (fail) throw new Error('disk full');
        saved.push(...w.map((x) => x.deviceId));
      },
      timers,
      200,
      (e) => errors.push(e),
    );
    saver.mark('a', () => write('a', 1));
    await saver.flush();
    expect(errors).toHaveLength(1);
    fail = false;
    saver.mark('b', () => write('b', 1));
    await saver.flush();
    await saver.idle();
    expect(saved).toEqual(['b']);
    expect(timers.pendingCount).toBe(0);
  });
});

describe('ProgressSaver with many devices', () => {
  it('splits one coalesced write into commits of at most devicesPerWrite devices, in order, each after the one before', async () => {
    const timers = new ManualTimers();
    const saved: string[][] = [];
    let inWrite = 0;
    let overlapped = false;
    const saver = new ProgressSaver(
      async (w) => {
        overlapped ||= inWrite > 0;
        inWrite++;
        await settle();
        saved.push(w.map((x) => x.deviceId));
        inWrite--;
      },
      timers,
      200,
      () => undefined,
      100,
    );
    const devices = Array.from({ length: 250 }, (_, i) => `d${i}`);
    for (const d of devices) saver.mark(d, () => write(d, 7));
    await saver.flush();
    expect(saved.map((w) => w.length)).toEqual([100, 100, 50]);
    expect(saved.flat()).toEqual(devices);
    expect(overlapped).toBe(false);
  });
});
