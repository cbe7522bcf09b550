// Pure core of the memory watch: decides from post-GC heap readings whether the heap is
// climbing (a leak), and from RSS readings whether a limit is crossed. No I/O, no clock.

export interface LeakDetectorOptions {
  /** bytes the post-GC heap must gain over those rises (from the floor at the climb's highest load) to be called a leak. */
  growthBytes: number;
  /** consecutive rises needed (each floor above the one before) past the window of the climb's highest load. */
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
 * hold). A window whose load is the highest of the climb so far is explained by it (a thousand
 * phones connecting and their queues filling grew the heap 35-39 MB over four windows and raised
 * a false alarm). A leak is a climb that goes on after the load stopped growing: `rises` more
 * rises past the window of the climb's highest load, adding up to `growthBytes` from that
 * window's floor. One rise past it is not enough: a busy heap settles a window after its load
 * peaks (a thousand phones' fan-out peaked at 6,481 held notifications on a 40.8 MB floor; the
 * next window, back at 1,168, read 44.2 MB and the heap then stayed there, and counting that
 * one rise raised a false alarm). Compared with the climb's highest load, not its first: a load
 * that merely wobbles (queues filling and draining) explains nothing, and once raised the
 * verdict stays until the climb stops, so a wobble does not clear and raise it again window
 * after window.
 *
 *   const d = new LeakDetector({ growthBytes: 8e6, rises: 3, noiseBytes: 256e3 });
 *   d.floor(20e6); d.floor(24e6); d.floor(28e6); d.floor(31e6).suspected  // true
 */
export class LeakDetector {
  private run: number[] = [];
  /** The highest load seen in the current climb. */
  private runLoad = 0;
  /** Where in `run` the load was last at its highest: the rises after it are the unexplained ones. */
  private peak = 0;
  private suspected = false;

  constructor(private readonly options: LeakDetectorOptions) {}

  floor(heapUsedAfterGc: number, load = 0): LeakVerdict {
    const last = this.run[this.run.length - 1];
    if (last !== undefined && heapUsedAfterGc > last + this.options.noiseBytes) {
      this.run.push(heapUsedAfterGc);
      if (load > this.runLoad) [this.runLoad, this.peak] = [load, this.run.length - 1];
      const unexplained = this.run.length - 1 - this.peak;
      this.suspected ||= unexplained >= this.options.rises && heapUsedAfterGc - this.run[this.peak] >= this.options.growthBytes;
    } else {
      [this.run, this.runLoad, this.peak, this.suspected] = [[heapUsedAfterGc], load, 0, false];
    }
    return this.verdict();
  }

  verdict(): LeakVerdict {
    return { suspected: this.suspected, growthBytes: this.growth(), run: [...this.run] };
  }

  /** bytes gained since the rising run began. */
  private growth(): number {
    return this.run.length > 1 ? this.run[this.run.length - 1] - this.run[0] : 0;
  }
}

export type LimitLevel = 'ok' | 'soft' | 'hard';

/** Which configured RSS limit a reading is past. */
export function limitLevel(rss: number, softBytes: number, hardBytes: number): LimitLevel {
  if (rss >= hardBytes) return 'hard';
  if (rss >= softBytes) return 'soft';
  return 'ok';
}
