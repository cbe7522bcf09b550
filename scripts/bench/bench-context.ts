import type { CorePlan } from './cores';
import type { Results } from './results';
import type { BenchSizes } from './sizes';

/** What every scenario gets: the core split, the sizes, where to put figures, and a progress line. */
export interface BenchContext {
  plan: CorePlan;
  sizes: BenchSizes;
  results: Results;
  /** A progress line on stderr (the report on stdout stays clean). */
  progress(message: string): void;
}
