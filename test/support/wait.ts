/**
 * Waits for a condition to hold, polling it, and fails with `what` after `timeout_ms`.
 * Tests use this instead of sleeping: they wait on the event itself, with a deadline.
 */
export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  timeout_ms = 10_000,
  poll_ms = 20,
): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeout_ms} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, poll_ms));
  }
}
