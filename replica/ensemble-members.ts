import { ShardkvError } from '../errors/codes.js';

/**
 * An ensemble's members by name (`m1,m2,m3` on the command line) and by the numbers the ZAB
 * engine uses: 1-based positions in the sorted names, so every member derives the same numbers
 * whatever order its --peers flag lists them in.
 */
export class EnsembleMembers {
  readonly names: readonly string[];
  readonly numbers: readonly number[];
  readonly selfNumber: number;

  constructor(peers: readonly string[], self: string) {
    const names = [...new Set(peers)].sort();
    if (names.length !== peers.length) throw new ShardkvError('BAD_ARGUMENTS', `--peers lists a member twice: ${peers.join(',')}`);
    if (![1, 3, 5].includes(names.length)) {
      throw new ShardkvError('BAD_ARGUMENTS', `an ensemble has 1, 3 or 5 members, got ${names.length}`);
    }
    const index = names.indexOf(self);
    if (index < 0) throw new ShardkvError('BAD_ARGUMENTS', `--id ${self} is not among --peers ${peers.join(',')}`);
    this.names = names;
    this.numbers = names.map((_, i) => i + 1);
    this.selfNumber = index + 1;
  }

  nameOf(id: number): string {
    const name = this.names[id - 1];
    if (name === undefined) throw new ShardkvError('INTERNAL', `no member number ${id}`);
    return name;
  }
}
