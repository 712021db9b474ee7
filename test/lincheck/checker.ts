/**
 * Linearizability checker: Wing & Gong's search with Lowe's memoisation and P-compositionality
 * (the approach of Porcupine and Knossos).
 *
 * A history is a set of operations, each with the time it was called and the time it returned.
 * It is linearizable when every operation can be given one instant between its call and its
 * return such that, taken in the order of those instants, the operations form a legal run of the
 * sequential model (each `step` accepts the recorded output).
 *
 * 1. P-compositionality: when the model can `partition` the history (a key-value store: one
 *    partition per key), the history is linearizable iff every partition is; each is checked
 *    alone, which keeps the search small.
 * 2. A partition's operations become a time-ordered doubly linked list of call and return
 *    entries (pending operations, see 5, have only a call entry, in a list of their own). At
 *    equal times calls sort before returns, so intervals that only touch count as concurrent
 *    (the permissive reading of a clock with ties).
 * 3. Depth-first search. Walking from the head, every call entry met before the first return
 *    entry belongs to an operation that may take effect next. If the model accepts it from the
 *    current state, it is linearized: its entries are lifted out of the list, the choice is
 *    pushed on a stack, and the walk restarts at the head. Meeting a return entry means that
 *    operation had to take effect before anything later, and no candidate before it worked: pop
 *    the last choice, put its entries back and try the candidate after it. The partition is
 *    linearizable once no return entry is left, and is not when the stack is empty at a return.
 * 4. Memoisation (Lowe): the sub-search only depends on (set of linearized operations, model
 *    state), so a pair seen before is not explored again. The set is a bitset; states are
 *    bucketed by `hash` and compared with `equal`.
 * 5. A pending operation (never returned: timed out, client crashed) has no return entry: it may
 *    be linearized anywhere after its call, with any output the model gives it (`step` gets
 *    output `undefined`), or never, since the search only has to pass every return entry.
 *    Pending operations are the expensive part: one that never took effect stays a candidate to
 *    the end, and when the search is stuck it tries every run of them. So candidates that
 *    returned are tried before pending ones (those called before the return entry the walk
 *    stopped at), a pending operation that leaves the state unchanged (a read) is never placed,
 *    and the search first allows at most one pending
 *    operation between two returned ones; only when that finds no linearization does it search
 *    again without the limit (the first search explores a part of the second's tree, so a
 *    linearization it finds is one, and 'not linearizable' always comes from the full search).
 *
 * The search is exponential in the worst case, so it runs under a wall-clock and a step budget
 * and answers 'unknown' when either runs out.
 */
import { invariant } from '../../errors/codes.js';

/** One client operation as observed from outside the system. */
export interface Operation<Input, Output> {
  clientId: number | string;
  input: Input;
  /** When the client issued the operation (any clock: logical ticks or milliseconds). */
  call: number;
  /** When the client saw its result; undefined or Infinity when it never returned (pending). */
  return?: number;
  /** The result the client saw; ignored for a pending operation. */
  output?: Output;
}

/** A sequential specification of the object under test. `step` must be deterministic. */
export interface Model<State, Input, Output> {
  init(): State;
  /**
   * Applies `input` to `state`. ok is false when `output` is not what the object could answer
   * from `state`. `output` is undefined for a pending operation: accept whatever it would answer.
   */
  step(state: State, input: Input, output: Output | undefined): { ok: boolean; next: State };
  equal(a: State, b: State): boolean;
  /** Equal states must have equal hashes. */
  hash(state: State): string;
  /** Splits a history into independent sub-histories (e.g. per key). Default: one partition. */
  partition?(history: readonly Operation<Input, Output>[]): Operation<Input, Output>[][];
  /** The operation in words, for failure messages, e.g. `put(k1, "a") -> ok`. */
  describe(op: Operation<Input, Output>): string;
  /** The state in words, for failure messages. Default: `hash(state)`. */
  describeState?(state: State): string;
}

export interface CheckOptions {
  /** Wall-clock budget for the whole history. Default 10 000 ms. */
  timeout_ms?: number;
  /** Budget of search steps for the whole history, for reproducible bounds. Default unlimited. */
  max_steps?: number;
}

export type CheckResult<Input, Output> =
  | { ok: true }
  | { ok: false; partition: number; operations: Operation<Input, Output>[]; message: string }
  | { ok: 'unknown'; reason: 'timeout' };

export const DEFAULT_TIMEOUT_MS = 10_000;
/** How many operations a failure message lists per section (the latest ones). */
const MESSAGE_MAX_OPS = 20;
/** Steps between two looks at the wall clock. */
const CLOCK_CHECK_INTERVAL_STEPS = 1024;

export function isPending(op: Operation<unknown, unknown>): boolean {
  return op.return === undefined || op.return === Infinity;
}

/** Checks `history` against `model`. Never hangs: bounded by options.timeout_ms / max_steps. */
export function checkLinearizable<State, Input, Output>(
  model: Model<State, Input, Output>,
  history: readonly Operation<Input, Output>[],
  options: CheckOptions = {},
): CheckResult<Input, Output> {
  const malformed = history.find((op) => !Number.isFinite(op.call) || (!isPending(op) && !(op.return! >= op.call)));
  invariant(malformed === undefined, `operation with call ${malformed?.call} and return ${malformed?.return}: ${malformed && model.describe(malformed)}`);
  const budget = new SearchBudget(options.timeout_ms ?? DEFAULT_TIMEOUT_MS, options.max_steps ?? Infinity);
  const partitions = model.partition ? model.partition(history) : [[...history]];
  // Smallest partitions first: they are cheap, and a failure found in one is a definite answer
  // even when a large partition would have spent the whole budget.
  const bySize = [...partitions.keys()].sort((a, b) => partitions[a]!.length - partitions[b]!.length);
  let timedOut = false;
  for (const index of bySize) {
    const operations = partitions[index]!;
    let verdict = checkPartition(model, operations, budget, 1);
    if (verdict.ok === false && operations.some(isPending)) {
      verdict = checkPartition(model, operations, budget, Infinity);
    }
    if (verdict.ok === false) {
      return { ok: false, partition: index, operations, message: `partition ${index}: ${verdict.message}` };
    }
    if (verdict.ok === 'unknown') timedOut = true;
  }
  return timedOut ? { ok: 'unknown', reason: 'timeout' } : { ok: true };
}

class SearchBudget {
  private readonly deadline_ms: number;
  private steps = 0;
  private spent = false;

  constructor(timeout_ms: number, private readonly max_steps: number) {
    this.deadline_ms = Date.now() + timeout_ms;
  }

  /** Counts one step; false from the moment the budget is spent. */
  spend(): boolean {
    this.steps++;
    const overTime = this.steps % CLOCK_CHECK_INTERVAL_STEPS === 0 && Date.now() > this.deadline_ms;
    if (overTime || this.steps > this.max_steps) this.spent = true;
    return !this.spent;
  }
}

interface Entry {
  kind: 'call' | 'return';
  opIndex: number;
  time: number;
  /** For a call: its return entry, or null when the operation is pending. */
  match: Entry | null;
  prev: Entry | null;
  next: Entry | null;
}

/**
 * Two time-ordered lists, each behind a sentinel head: the call and return entries of the
 * operations that returned, and the call entries of the pending ones (kept apart so that the
 * many pending calls that pile up at the front do not slow every walk).
 */
function buildEntryLists(operations: readonly Operation<unknown, unknown>[]): { returned: Entry; pending: Entry } {
  const returned: Entry[] = [];
  const pending: Entry[] = [];
  operations.forEach((op, opIndex) => {
    const call: Entry = { kind: 'call', opIndex, time: op.call, match: null, prev: null, next: null };
    if (isPending(op)) {
      pending.push(call);
      return;
    }
    call.match = { kind: 'return', opIndex, time: op.return!, match: null, prev: null, next: null };
    returned.push(call, call.match);
  });
  const byTime = (x: Entry, y: Entry): number => x.time - y.time || (x.kind === y.kind ? 0 : x.kind === 'call' ? -1 : 1);
  return { returned: linkAfterHead(returned.sort(byTime)), pending: linkAfterHead(pending.sort(byTime)) };
}

function linkAfterHead(entries: Entry[]): Entry {
  const head: Entry = { kind: 'call', opIndex: -1, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const entry of entries) {
    entry.prev = last;
    last.next = entry;
    last = entry;
  }
  return head;
}

function unlink(entry: Entry): void {
  entry.prev!.next = entry.next;
  if (entry.next) entry.next.prev = entry.prev;
}

/** Undoes unlink(entry); valid because entries are restored in the reverse order of removal. */
function relink(entry: Entry): void {
  entry.prev!.next = entry;
  if (entry.next) entry.next.prev = entry;
}

function lift(call: Entry): void {
  unlink(call);
  if (call.match) unlink(call.match);
}

function unlift(call: Entry): void {
  if (call.match) relink(call.match);
  relink(call);
}

/** A bitset as it was at one point of the search, without its leading all-ones and trailing zero words. */
interface TrimmedBits {
  start: number;
  words: Uint32Array;
}

/** A set of small integers with an order-independent 64-bit hash kept up to date on every change. */
class Bitset {
  private readonly words: Uint32Array;
  hashLow = 0;
  hashHigh = 0;

  constructor(size: number) {
    this.words = new Uint32Array(Math.ceil(size / 32));
  }

  set(index: number): void {
    this.words[index >>> 5]! |= 1 << (index & 31);
    this.toggleHash(index);
  }

  clear(index: number): void {
    this.words[index >>> 5]! &= ~(1 << (index & 31));
    this.toggleHash(index);
  }

  /** Small when members form a prefix plus a few more, as linearized operations in call order do. */
  snapshot(): TrimmedBits {
    let start = 0;
    while (start < this.words.length && this.words[start] === 0xffffffff) start++;
    let end = this.words.length;
    while (end > start && this.words[end - 1] === 0) end--;
    return { start, words: this.words.slice(start, end) };
  }

  matches(snapshot: TrimmedBits): boolean {
    return this.words.every((word, i) => {
      if (i < snapshot.start) return word === 0xffffffff;
      return word === (snapshot.words[i - snapshot.start] ?? 0);
    });
  }

  /** XOR of a pseudo-random tag per member, in two 32-bit lanes. */
  private toggleHash(index: number): void {
    this.hashLow ^= mix32(index * 2 + 1);
    this.hashHigh ^= mix32(index * 2 + 2);
  }
}

/** A 32-bit integer hash (an avalanche mix), so that XORs of tags rarely collide. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/**
 * The linearized operations of a partition whose operations are in call order. Returned and
 * pending operations are kept in two bitsets, so that each stays close to "a prefix and a few
 * more" and snapshots of it stay small however long the history.
 */
class LinearizedSet {
  private readonly returned: Bitset;
  private readonly pending: Bitset;
  /** Each operation's index in its own bitset. */
  private readonly slot: Int32Array;

  constructor(operations: readonly Operation<unknown, unknown>[]) {
    this.slot = new Int32Array(operations.length);
    let returnedCount = 0;
    let pendingCount = 0;
    operations.forEach((op, i) => { this.slot[i] = isPending(op) ? pendingCount++ : returnedCount++; });
    this.returned = new Bitset(returnedCount);
    this.pending = new Bitset(pendingCount);
  }

  add(opIndex: number, pending: boolean): void { (pending ? this.pending : this.returned).set(this.slot[opIndex]!); }
  remove(opIndex: number, pending: boolean): void { (pending ? this.pending : this.returned).clear(this.slot[opIndex]!); }

  hash(): string {
    return `${this.returned.hashLow},${this.returned.hashHigh},${this.pending.hashLow},${this.pending.hashHigh}`;
  }

  snapshot(): [TrimmedBits, TrimmedBits] { return [this.returned.snapshot(), this.pending.snapshot()]; }
  matches([returned, pending]: [TrimmedBits, TrimmedBits]): boolean {
    return this.returned.matches(returned) && this.pending.matches(pending);
  }
}

/** The (linearized set, state) pairs already explored. */
class Memo<State> {
  private readonly seen = new Map<string, Array<{ linearized: [TrimmedBits, TrimmedBits]; state: State }>>();

  constructor(private readonly model: Model<State, unknown, unknown>) {}

  /** Records the pair; false when it was already there. */
  add(linearized: LinearizedSet, state: State): boolean {
    const key = `${linearized.hash()}|${this.model.hash(state)}`;
    const bucket = this.seen.get(key);
    if (bucket?.some((pair) => linearized.matches(pair.linearized) && this.model.equal(pair.state, state))) return false;
    const pair = { linearized: linearized.snapshot(), state };
    if (bucket) bucket.push(pair);
    else this.seen.set(key, [pair]);
    return true;
  }
}

type PartitionVerdict = { ok: true } | { ok: false; message: string } | { ok: 'unknown' };

/** The deepest point the search reached, kept to explain a failure. */
interface DeepestPoint<State> {
  prefix: number[];
  state: State;
  blocking: number;
  candidates: number[];
}

function checkPartition<State, Input, Output>(
  model: Model<State, Input, Output>,
  unordered: readonly Operation<Input, Output>[],
  budget: SearchBudget,
  maxPendingRun: number,
): PartitionVerdict {
  const operations = [...unordered].sort((a, b) => a.call - b.call);
  const lists = buildEntryLists(operations);
  const linearized = new LinearizedSet(operations);
  const memo = new Memo<State>(model as Model<State, unknown, unknown>);
  const stack: Array<{ call: Entry; state: State; stuckAt: Entry | null; pendingRun: number }> = [];
  let state = model.init();
  let unreturned = operations.filter((op) => !isPending(op)).length;
  let deepest: DeepestPoint<State> | undefined;
  let entry = lists.returned.next;
  // A node's candidates are tried in two passes: first the returned operations called before the
  // first return entry, then, stuck at that entry, the pending operations called before it.
  // Pending operations are mostly best left out, so trying them last saves work; the order
  // does not change the verdict.
  let stuckAt: Entry | null = null;
  /** How many pending operations were linearized in a row just before this node. */
  let pendingRun = 0;

  while (unreturned > 0) {
    if (!budget.spend()) return { ok: 'unknown' };
    const pendingPass = stuckAt !== null;
    if (entry !== null && entry.kind === 'call' && (!pendingPass || entry.time <= stuckAt!.time)) {
      const op = operations[entry.opIndex]!;
      const result = model.step(state, op.input, pendingPass ? undefined : op.output);
      // A pending operation that would not change the state (a read, say) is never worth
      // linearizing: leaving it out, or placing it later, allows everything placing it here does.
      if (result.ok && !(pendingPass && model.equal(result.next, state))) {
        linearized.add(entry.opIndex, pendingPass);
        if (memo.add(linearized, result.next)) {
          stack.push({ call: entry, state, stuckAt, pendingRun });
          state = result.next;
          lift(entry);
          if (entry.match) unreturned--;
          pendingRun = pendingPass ? pendingRun + 1 : 0;
          stuckAt = null;
          entry = lists.returned.next;
          continue;
        }
        linearized.remove(entry.opIndex, pendingPass);
      }
      entry = entry.next;
    } else if (!pendingPass && pendingRun < maxPendingRun) {
      invariant(entry !== null, 'linearizability search ran past the last return entry');
      stuckAt = entry;
      entry = lists.pending.next;
    } else {
      const blocking = stuckAt ?? entry!;
      if (deepest === undefined || stack.length > deepest.prefix.length) {
        deepest = { prefix: stack.map((frame) => frame.call.opIndex), state, blocking: blocking.opIndex, candidates: candidatesBefore(lists, blocking) };
      }
      const frame = stack.pop();
      if (frame === undefined) return { ok: false, message: explainFailure(model, operations, deepest) };
      state = frame.state;
      linearized.remove(frame.call.opIndex, frame.call.match === null);
      unlift(frame.call);
      if (frame.call.match) unreturned++;
      entry = frame.call.next;
      stuckAt = frame.stuckAt;
      pendingRun = frame.pendingRun;
    }
  }
  return { ok: true };
}

/** The operations not yet linearized that were called before the `stop` return entry. */
function candidatesBefore(lists: { returned: Entry; pending: Entry }, stop: Entry): number[] {
  const calls: number[] = [];
  for (let entry = lists.returned.next; entry !== null && entry !== stop; entry = entry.next) {
    if (entry.kind === 'call') calls.push(entry.opIndex);
  }
  for (let entry = lists.pending.next; entry !== null && entry.time <= stop.time; entry = entry.next) {
    calls.push(entry.opIndex);
  }
  return calls;
}

function explainFailure<State, Input, Output>(
  model: Model<State, Input, Output>,
  operations: readonly Operation<Input, Output>[],
  deepest: DeepestPoint<State>,
): string {
  const line = (opIndex: number): string => {
    const op = operations[opIndex]!;
    const returned = isPending(op) ? 'never returned' : `return ${op.return}`;
    return `    ${model.describe(op)}  [client ${op.clientId}, call ${op.call}, ${returned}]`;
  };
  const list = (opIndices: number[]): string => {
    if (opIndices.length === 0) return '    (none)';
    const elided = opIndices.length - MESSAGE_MAX_OPS;
    if (elided <= 0) return opIndices.map(line).join('\n');
    return [`    ... ${elided} earlier`, ...opIndices.slice(elided).map(line)].join('\n');
  };
  const describeState = model.describeState ?? model.hash;
  return [
    `not linearizable (${operations.length} operations).`,
    `  Longest linearizable prefix found (${deepest.prefix.length} operations, in order):`,
    list(deepest.prefix),
    `  State after it: ${describeState.call(model, deepest.state)}`,
    '  Stuck at the return of (it must have taken effect by then):',
    line(deepest.blocking),
    '  Candidates to take effect next (called before that return, not linearized); none leads to a linearization:',
    list(deepest.candidates),
  ].join('\n');
}
