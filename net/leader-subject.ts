import type { RequestHandler, Subscription, Transport } from './transport.js';

/**
 * A leader subject is served only while this replica leads its ensemble: the driver calls
 * setLeader(true) when the engine becomes leader and setLeader(false) when it steps
 * down, so requesters need no leader table. The subscription uses a queue group, so if
 * an old and a new leader overlap for a moment each request still reaches one of them
 * (the stale one cannot commit: safety never depends on the transport).
 */
export class LeaderSubject {
  private subscription: Subscription | undefined;

  constructor(
    private readonly transport: Transport,
    readonly subject: string,
    private readonly handler: RequestHandler,
  ) {}

  get isServing(): boolean {
    return this.subscription !== undefined && !this.subscription.isClosed;
  }

  /** Subscribes or unsubscribes; resolves once the change has reached the bus/server. Idempotent. */
  async setLeader(isLeader: boolean): Promise<void> {
    if (isLeader && !this.isServing) {
      this.subscription = this.transport.serve(this.subject, this.handler, { queue: 'leader' });
    } else if (!isLeader && this.subscription !== undefined) {
      this.subscription.unsubscribe();
      this.subscription = undefined;
    }
    await this.transport.flush();
  }
}
