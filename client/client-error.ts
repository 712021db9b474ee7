/**
 * The one error the SDK throws: the server's `{code, message}` with the HTTP status, or a
 * client-side code (CONNECTION_LOSS, TIMEOUT, BAD_PATH) with status 0 when no answer came.
 */
export class ShardkvClientError extends Error {
  readonly code: string;
  /** HTTP status of the answer; 0 when there was none. */
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, status: number, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'ShardkvClientError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}
