/**
 * The processes one side-by-side system runs (JVMs, etcd members, shardkv roles): each spawned
 * with its output in a log file, all stopped by pid (SIGTERM, then SIGKILL after a grace period)
 * by stopAll(), which the bench calls in a finally block.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface Running {
  child: ChildProcess;
  exited: Promise<void>;
}

/** Children of every group in this process, SIGKILLed if the bench exits without stopping them. */
const everyChild = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of everyChild) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export class ProcessGroup {
  private readonly running = new Map<string, Running>();

  constructor(readonly logsDir: string) {
    mkdirSync(logsDir, { recursive: true });
  }

  logFile(name: string): string {
    return join(this.logsDir, `${name}.log`);
  }

  start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): number {
    if (this.running.has(name)) throw new Error(`${name} is already running`);
    const log = openSync(this.logFile(name), 'a');
    const child = spawn(command, args, { stdio: ['ignore', log, log], env });
    closeSync(log); // the child has its own copy
    if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
    everyChild.add(child);
    const exited = new Promise<void>((resolve) => child.once('exit', () => {
      everyChild.delete(child);
      resolve();
    }));
    this.running.set(name, { child, exited });
    return child.pid;
  }

  /** Throws if a process of the group has exited (a crash during start-up or load). */
  assertAlive(): void {
    for (const [name, { child }] of this.running) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}); log tail:\n${this.logTail(name)}`);
      }
    }
  }

  pid(name: string): number | undefined {
    return this.running.get(name)?.child.pid;
  }

  logTail(name: string, lines = 20): string {
    const file = this.logFile(name);
    return existsSync(file) ? readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
  }

  /**
   * SIGTERM to every process (a node role then exits cleanly, writing its --cpu-prof profile),
   * SIGKILL to those still alive after grace_ms. Idempotent.
   */
  async stopAll(grace_ms = 5_000): Promise<void> {
    await this.stop([...this.running.keys()], grace_ms);
  }

  /** stopAll for some of the processes (e.g. shardkv's routers and replicas before its meta ensemble). */
  async stop(names: string[], grace_ms = 5_000): Promise<void> {
    const chosen = names.flatMap((name) => {
      const running = this.running.get(name);
      this.running.delete(name);
      return running === undefined ? [] : [running];
    });
    for (const { child } of chosen) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), grace_ms); });
    const done = await Promise.race([Promise.all(chosen.map((r) => r.exited)).then(() => 'done' as const), timeout]);
    clearTimeout(timer);
    if (done === 'timeout') {
      for (const { child } of chosen) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await Promise.all(chosen.map((r) => r.exited));
    }
  }
}
