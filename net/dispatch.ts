import type { Logger } from 'pino';
import { ShardkvError } from '../errors/codes.js';
import { decodeMessage, encodeMessage } from './codec.js';
import { errorReply, successReply } from './reply.js';
import type { InboundMessage, MessageHandler, RequestHandler } from './transport.js';

/**
 * Calling user handlers, shared by both transports so they treat handler failures alike:
 * a failing message handler is logged (the bus goes on); a failing request handler
 * becomes an error reply.
 */

export function runMessageHandler(handler: MessageHandler, message: InboundMessage, logger: Logger): void {
  try {
    const result = handler(message);
    if (result instanceof Promise) {
      result.catch((err: unknown) => logger.error({ subject: message.subject, err }, 'message handler failed'));
    }
  } catch (err) {
    logger.error({ subject: message.subject, err }, 'message handler failed');
  }
}

/** Runs the handler on an encoded request and returns the encoded tagged reply. Never throws. */
export async function answerRequest(handler: RequestHandler, subject: string, request: Uint8Array, logger: Logger): Promise<Uint8Array> {
  try {
    return encodeMessage(successReply(await handler(decodeMessage(request), { subject })));
  } catch (err) {
    if (!(err instanceof ShardkvError)) logger.error({ subject, err }, 'request handler failed');
    return encodeMessage(errorReply(err, subject));
  }
}
