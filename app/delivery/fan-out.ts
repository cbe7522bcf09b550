// Runs one step per live session for each relay event, a slice of sessions at a time, so a
// notification to a thousand phones lets acks, pages and /health in between slices. Events
// run in the order they came, and each reaches every session before the next one starts, so
// each session still sees notifications in seq order.

interface Task<S> {
  step: (session: S) => void;
  sessions: Iterator<S>;
  /** The session the last slice stopped at (read to know whether the task was done). */
  next?: IteratorResult<S>;
}

/**
 * A FIFO of per-session steps, run `slice` sessions per turn; `defer` (setImmediate in
 * production) yields between slices. Sessions added while a step is running through them are
 * visited too (the iterator is live); those removed are skipped (the one a slice stopped at
 * excepted: steps check). A step that throws is
 * reported and the others still run.
 *
 *   const fanOut = new FanOut(() => sessions.values(), 128, setImmediate);
 *   fanOut.run((session) => session.offer(item));
 */
export class FanOut<S> {
  private readonly tasks: Task<S>[] = [];
  private running = false;
  private waiting = false;

  constructor(
    private readonly sessions: () => Iterable<S>,
    private readonly slice: number,
    private readonly defer: (fn: () => void) => void,
    private readonly onError: (error: unknown) => void = () => undefined,
  ) {
    if (!(Number.isInteger(slice) && slice >= 1)) throw new RangeError(`slice must be >= 1, got ${slice}`);
  }

  /** Queues `step` for every session; runs it now if nothing is queued before it. */
  run(step: (session: S) => void): void {
    this.tasks.push({ step, sessions: this.sessions()[Symbol.iterator]() });
    if (!this.running && !this.waiting) this.drain();
  }

  /** Steps still queued or part-way (tests, metrics). */
  get backlog(): number {
    return this.tasks.length;
  }

  /** Drops every queued step (shutdown). */
  clear(): void {
    this.tasks.length = 0;
  }

  private drain(): void {
    this.running = true;
    try {
      let budget = this.slice;
      while (this.tasks.length > 0) {
        const task = this.tasks[0];
        for (;;) {
          const next = task.next ?? task.sessions.next();
          task.next = undefined;
          if (next.done) break;
          if (budget === 0) {
            task.next = next;
            return this.yield();
          }
          budget--;
          try {
            task.step(next.value);
          } catch (error) {
            this.onError(error);
          }
        }
        this.tasks.shift();
      }
    } finally {
      this.running = false;
    }
  }

  private yield(): void {
    this.waiting = true;
    this.defer(() => {
      this.waiting = false;
      if (!this.running) this.drain();
    });
  }
}
