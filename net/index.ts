/** The transport (net/): the interface, its two implementations, subjects and the codec. */
export type {
  Envelope, InboundMessage, MessageHandler, MessageStream, RequestContext, RequestHandler, RequestOptions,
  SubscribeOptions, Subscription, Transport, TransportKind,
} from './transport.js';
export { InProcessBus, InProcessTransport } from './in-process.js';
export { connectNats, NatsTransport, type NatsTransportOptions } from './nats.js';
export { Subjects, assertSubjectId, assertSubjectPrefix } from './subjects.js';
export { LeaderSubject } from './leader-subject.js';
export { encodeMessage, decodeMessage } from './codec.js';
