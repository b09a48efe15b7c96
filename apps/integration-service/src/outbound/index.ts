export {
  createDestinationPolicy,
  DestinationRefusedError,
  validateDestinationUrl,
  type DestinationPolicy,
  type DestinationRefusalReason,
} from './destination-policy.js';
export type { AddressResolver } from './guarded-lookup.js';
export type { OutboundErrorKind } from './outbound-errors.js';
export {
  OutboundHttpSender,
  type OutboundFailure,
  type OutboundRequest,
  type OutboundResponse,
  type OutboundResult,
  type OutboundSenderOptions,
} from './outbound-sender.js';
export { parseRetryAfter } from './retry-after.js';
