// A one-line progress bar for long CLI work: redrawn in place on a terminal, and on anything
// else (a pipe, a log) printed at each quarter so the output stays short.

const WIDTH = 30;

export class ProgressBar {
  private lastQuarter = -1;

  constructor(
    private readonly label: string,
    private readonly write: (text: string) => void,
    private readonly tty: boolean,
  ) {}

  update(done: number, total: number): void {
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const pct = Math.round(ratio * 100);
    const filled = Math.round(ratio * WIDTH);
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${String(pct).padStart(3)}%  ${done}/${total} pages`;
    if (this.tty) {
      this.write(`\r${line}${ratio === 1 ? '\n' : ''}`);
      return;
    }
    const quarter = Math.floor(pct / 25);
    if (quarter > this.lastQuarter) {
      this.lastQuarter = quarter;
      this.write(`${line}\n`);
    }
  }
}
