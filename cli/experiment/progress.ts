// Progress of the captioning on stderr: one line redrawn in place on a terminal, otherwise a line
// at the start, at every tenth of the work and at the end, so logs stay short.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Seconds as "42s", "3m05s" or "2h07m". */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.round(seconds));
  if (total < 60) return `${total}s`;
  const minutes = Math.floor(total / 60);
  if (minutes < 60) return `${minutes}m${String(total % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, "0")}m`;
}

export class TaskProgress {
  readonly #stream: ProgressStream;
  readonly #label: string;
  readonly #total: number;
  readonly #now: () => number;
  readonly #started: number;
  #done: number;
  #fresh = 0;
  #lastTenth: number;

  /**
   * `total` rows, of which `done` were already written by an earlier session. `now` returns
   * milliseconds; the rate counts only this session's rows.
   */
  constructor(
    stream: ProgressStream,
    label: string,
    total: number,
    done: number,
    now: () => number = () => performance.now(),
  ) {
    this.#stream = stream;
    this.#label = label;
    this.#total = total;
    this.#done = done;
    this.#now = now;
    this.#started = now();
    this.#lastTenth = this.#tenth();
    if (this.#stream.isTTY === true) this.#draw();
    else this.#stream.write(`${this.#line()}\n`);
  }

  /** Counts `rows` more rows written. */
  advance(rows = 1): void {
    this.#done += rows;
    this.#fresh += rows;
    if (this.#stream.isTTY === true) {
      this.#draw();
      return;
    }
    const tenth = this.#tenth();
    if (tenth > this.#lastTenth && this.#done < this.#total) {
      this.#lastTenth = tenth;
      this.#stream.write(`${this.#line()}\n`);
    }
  }

  /** Ends the line with a summary; `note` describes what else happened (skipped rows, a failure). */
  finish(note = ""): void {
    const seconds = (this.#now() - this.#started) / 1000;
    const summary = `${this.#label}: ${this.#done}/${this.#total} rows, ${this.#fresh} new in ${formatDuration(seconds)}${note === "" ? "" : `, ${note}`}`;
    this.#stream.write(this.#stream.isTTY === true ? `\r\x1b[K${summary}\n` : `${summary}\n`);
  }

  #tenth(): number {
    return this.#total === 0 ? 10 : Math.floor((this.#done / this.#total) * 10);
  }

  #draw(): void {
    this.#stream.write(`\r\x1b[K${this.#line()}`);
  }

  #line(): string {
    const percent = this.#total === 0 ? 100 : Math.floor((this.#done / this.#total) * 100);
    const seconds = (this.#now() - this.#started) / 1000;
    let rate = "";
    if (this.#fresh > 0 && seconds > 0) {
      const perSecond = this.#fresh / seconds;
      const remaining = (this.#total - this.#done) / perSecond;
      rate = `, ${perSecond.toFixed(2)} rows/s, about ${formatDuration(remaining)} left`;
    }
    return `${this.#label}: ${this.#done}/${this.#total} rows (${percent}%)${rate}`;
  }
}
