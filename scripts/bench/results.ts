import type { SystemKind } from './system';
import { median } from './stats';

// Every measured value of every run, by figure and system, and what went wrong; the report
// reads medians from here.

/** One run's value of a figure; `counts` is false when its phase saturated the client core. */
interface Sample {
  value: number;
  counts: boolean;
}

/** The median of a figure's counting runs (or of all, flagged, when none counts). */
export interface Summary {
  value: number;
  runs: number;
  counting: number;
}

/** Collects samples and problems over the whole bench run. */
export class Results {
  private readonly samples = new Map<string, Sample[]>();
  /** Why the run is not a pass regardless of the figures (lost notifications, crashes). */
  readonly problems: string[] = [];
  /** Things the reader should know (retries, redeliveries) that do not fail the run. */
  readonly notes: string[] = [];

  /** Records one run's value of `figure` for `system`; undefined or non-finite values are skipped. */
  add(figure: string, system: SystemKind, value: number | undefined, counts = true): void {
    if (value === undefined || !Number.isFinite(value)) return;
    const key = `${figure}|${system}`;
    const list = this.samples.get(key) ?? [];
    list.push({ value, counts });
    this.samples.set(key, list);
  }

  /** The median over the runs that count; when none counts, the median of all (counting = 0). */
  summary(figure: string, system: SystemKind): Summary | undefined {
    const list = this.samples.get(`${figure}|${system}`);
    if (!list || list.length === 0) return undefined;
    const counting = list.filter((s) => s.counts);
    const used = counting.length > 0 ? counting : list;
    return { value: median(used.map((s) => s.value)), runs: list.length, counting: counting.length };
  }

  /** The counting median, or undefined when no run of it counts. */
  value(figure: string, system: SystemKind): number | undefined {
    const s = this.summary(figure, system);
    return s && s.counting > 0 ? s.value : undefined;
  }
}
