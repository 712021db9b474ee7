/**
 * Coordination recipes over the shardkv SDK, each following an Apache Curator recipe (its doc
 * comment says which, what is the same and what differs). Every recipe keeps its nodes in ONE
 * directory, so they live on one shard group (placement is by parent path).
 */
export { SessionWatches, type WakeReason, type Wakeup, type PathMatch } from './session-watches.js';
export { SequentialLock, exclusiveOrder, type LockOrder, type LockDecision, type LockPhase, type AcquireOptions } from './sequential-lock.js';
export { DistributedLock } from './distributed-lock.js';
export { ReadWriteLock } from './read-write-lock.js';
export { LeaderLatch, type LeaderLatchListener, type LeaderLatchState, type Participant } from './leader-latch.js';
export { ServiceRegistry, ServiceCache, type ServiceInstance, type InstanceSpec } from './service-discovery.js';
export { ConfigWatch, type ConfigWatchOptions, type ConfigListener } from './config-watch.js';
export { DistributedBarrier } from './barrier.js';
export { DistributedDoubleBarrier } from './double-barrier.js';
export { DistributedQueue, type QueueSerializer } from './distributed-queue.js';
