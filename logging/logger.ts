import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Fields every shardkv log line carries where they apply (see DESIGN.md, "Interfaces"). */
export interface LogContext {
  role: 'meta' | 'shard' | 'router' | 'cli' | 'bench' | 'dev' | 'test';
  node?: string;
  group?: string;
}

/**
 * The one logger factory of the project: JSON lines through pino, level from LOG_LEVEL
 * (default `info`), written to stderr so that a command's stdout stays its output.
 * Epoch and zxid are added per line by the caller with `log.child({ epoch, zxid })`.
 */
export function createLogger(context: LogContext, options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  return pino({ ...options, level, base: { ...context } }, pino.destination(2));
}
