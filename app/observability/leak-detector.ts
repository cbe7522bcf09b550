// Pure core of the memory watch: decides from post-GC heap readings whether the heap is
// climbing (a leak), and from RSS readings whether a limit is crossed. No I/O, no clock.

export interface LeakDetectorOptions {
  /** bytes the post-GC heap must gain over the rising run to be called a leak. */
  growthBytes: number;
  /** consecutive rises needed (each floor above the one before). */
  rises: number;
  /** bytes a floor must exceed the previous one by to count as a rise (GC noise). */
  noiseBytes: number;
}

export interface LeakVerdict {
  suspected: boolean;
  /** bytes gained since the rising run began. */
  growthBytes: number;
  /** floors in the current rising run, oldest first. */
  run: number[];
}

/**
 * Feeds on the heap size measured right after a full GC, once per window, with how much the
 * daemon holds on purpose then (`load`: connected devices and the notifications their sessions
 * hold). A climb while the load is above where the climb began is explained by it (a thousand
 * phones connecting and their queues filling grew the heap 35-39 MB over four windows and
 * raised a false alarm); the same climb once the load is back down, or never rose, is a leak.
 *
 *   const d = new LeakDetector({ growthBytes: 8e6, rises: 3, noiseBytes: 256e3 });
 *   d.floor(20e6); d.floor(24e6); d.floor(28e6); d.floor(31e6).suspected  // true
 */
export class LeakDetector {
  private run: number[] = [];
  /** The load when the current rising run began. */
  private runLoad = 0;
  private load = 0;

  constructor(private readonly options: LeakDetectorOptions) {}

  floor(heapUsedAfterGc: number, load = 0): LeakVerdict {
    const last = this.run[this.run.length - 1];
    if (last !== undefined && heapUsedAfterGc > last + this.options.noiseBytes) this.run.push(heapUsedAfterGc);
    else [this.run, this.runLoad] = [[heapUsedAfterGc], load];
    this.load = load;
    return this.verdict();
  }

  verdict(): LeakVerdict {
    const growth = this.run.length > 1 ? this.run[this.run.length - 1] - this.run[0] : 0;
    const explained = this.load > this.runLoad;
    const suspected = !explained && this.run.length > this.options.rises && growth >= this.options.growthBytes;
    return { suspected, growthBytes: growth, run: [...this.run] };
  }
}

export type LimitLevel = 'ok' | 'soft' | 'hard';

/** Which configured RSS limit a reading is past. */
export function limitLevel(rss: number, softBytes: number, hardBytes: number): LimitLevel {
  if (rss >= hardBytes) return 'hard';
  if (rss >= softBytes) return 'soft';
  return 'ok';
}
