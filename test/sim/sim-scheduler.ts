/**
 * Tick-driven callbacks for simulations that drive asynchronous code: `at(tick, run)` runs a
 * callback when the simulation reaches that tick, `sleep(ticks)` is a promise resolved then.
 * Callbacks due at the same tick run in the order they were scheduled, so a seed replays exactly.
 */
interface Scheduled {
  tick: number;
  sequence: number;
  run: () => void;
}

export class SimScheduler {
  now = 0;
  private queue: Scheduled[] = [];
  private sequence = 0;

  at(tick: number, run: () => void): void {
    this.queue.push({ tick: Math.max(tick, this.now), sequence: this.sequence++, run });
  }

  /** Resolves at least one tick from now. */
  sleep(ticks: number): Promise<void> {
    return new Promise((resolve) => this.at(this.now + Math.max(1, ticks), resolve));
  }

  /** Runs every callback due by now, including those scheduled for now while running. Bounded. */
  runDue(): void {
    for (let round = 0; round < 1000; round++) {
      const due = this.queue.filter((item) => item.tick <= this.now);
      if (due.length === 0) return;
      this.queue = this.queue.filter((item) => item.tick > this.now);
      due.sort((a, b) => a.sequence - b.sequence);
      for (const item of due) item.run();
    }
    throw new Error(`more than 1000 rounds of callbacks due at tick ${this.now}`);
  }

  get pending(): number {
    return this.queue.length;
  }
}

/** Lets every promise continuation queued so far run (a macrotask turn drains the microtask queue). */
export function settleMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
