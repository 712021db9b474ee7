/**
 * Records a history for the linearizability checker while clients run: note each call, then
 * its return. An operation whose return is never recorded (timed out, client crashed) stays
 * pending. Times come from a logical clock by default: in one Node process the test observes
 * every call and return in one total order, which is exactly the real-time order needed.
 */
import { invariant } from '../../errors/codes.js';
import type { Operation } from './checker.js';

export class HistoryRecorder<Input, Output> {
  private readonly recorded: Operation<Input, Output>[] = [];
  private ticks = 0;

  /** `clock` replaces the logical clock, e.g. with performance.now for histories across processes. */
  constructor(private readonly clock?: () => number) {}

  /** Records the call; the returned function records the return with the output the client saw. */
  begin(clientId: number | string, input: Input): (output: Output) => void {
    const op: Operation<Input, Output> = { clientId, input, call: this.now() };
    this.recorded.push(op);
    return (output) => {
      invariant(op.return === undefined, 'an operation returned twice');
      op.return = this.now();
      op.output = output;
    };
  }

  /** A copy of the history so far; operations not yet returned are pending. */
  operations(): Operation<Input, Output>[] {
    return this.recorded.map((op) => ({ ...op }));
  }

  private now(): number {
    return this.clock ? this.clock() : ++this.ticks;
  }
}
