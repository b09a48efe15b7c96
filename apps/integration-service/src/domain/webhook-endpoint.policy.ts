import { AppError, type FieldError } from '@te/platform';
import { USER_VISIBLE_EVENT_TYPES, isUserVisibleEventType } from '../events/user-visible-events.js';
import {
  DestinationRefusedError,
  validateDestinationUrl,
  type DestinationPolicy,
} from '../outbound/index.js';
import { isHostPortAllowed } from '../outbound/destination-policy.js';
import { cidrContains, parseIp } from '../outbound/ip-address.js';

export const MAX_URL_LENGTH = 2048;
export const MAX_DESCRIPTION_LENGTH = 500;
/** Every user-visible event type, present and future. */
export const ALL_EVENT_TYPES = '*';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A UUID path parameter, lower-cased; VALIDATION_FAILED naming `field` otherwise. */
export function requireUuid(value: string, field: string): string {
  if (!isUuid(value)) {
    throw new AppError('VALIDATION_FAILED', `${field} is invalid`, {
      fields: [{ field, message: 'must be a UUID' }],
    });
  }
  return value.toLowerCase();
}

/**
 * https only, except http to an allowlisted development host; no credentials; no literal special
 * address or loopback name. A courtesy: the sender checks every resolved address again at connect
 * time (DNS can change after this).
 */
export function checkEndpointUrl(url: string, policy: DestinationPolicy, problems: FieldError[]): string {
  if (url.length === 0 || url.length > MAX_URL_LENGTH) {
    problems.push({ field: 'url', message: `must be 1 to ${MAX_URL_LENGTH} characters` });
    return url;
  }
  try {
    const parsed = validateDestinationUrl(url, policy);
    if (parsed.protocol === 'http:' && !isAllowlisted(parsed, policy)) {
      problems.push({ field: 'url', message: 'must use https' });
    }
    if (parsed.hash) problems.push({ field: 'url', message: 'must not have a fragment' });
    return parsed.href;
  } catch (error) {
    if (!(error instanceof DestinationRefusedError)) throw error;
    problems.push({ field: 'url', message: `is not a destination webhooks are sent to: ${error.detail}` });
    return url;
  }
}

function isAllowlisted(url: URL, policy: DestinationPolicy): boolean {
  if (isHostPortAllowed(policy, url)) return true;
  const literal = parseIp(url.hostname);
  return literal !== undefined && policy.ranges.some((range) => cidrContains(range, literal));
}

/** At least one known type, or `*` alone; duplicates removed, order kept. */
export function checkEventTypes(types: readonly string[], problems: FieldError[]): string[] {
  const unique = [...new Set(types)];
  if (unique.length === 0) {
    problems.push({ field: 'event_types', message: 'must name at least one event type, or "*"' });
  } else if (unique.includes(ALL_EVENT_TYPES) && unique.length > 1) {
    problems.push({ field: 'event_types', message: '"*" must stand alone' });
  } else {
    const unknown = unique.filter((type) => type !== ALL_EVENT_TYPES && !isUserVisibleEventType(type));
    if (unknown.length > 0) {
      problems.push({
        field: 'event_types',
        message: `unknown: ${unknown.slice(0, 5).join(', ')} (known: ${USER_VISIBLE_EVENT_TYPES.join(', ')})`,
      });
    }
  }
  return unique;
}

export function checkDescription(description: string, problems: FieldError[]): string {
  if (description.length > MAX_DESCRIPTION_LENGTH || !description.isWellFormed()) {
    problems.push({
      field: 'description',
      message: `must be valid text of at most ${MAX_DESCRIPTION_LENGTH} characters`,
    });
  }
  return description;
}

export function throwIfProblems(problems: FieldError[]): void {
  if (problems.length > 0) {
    throw new AppError('VALIDATION_FAILED', 'Invalid webhook endpoint', { fields: problems });
  }
}

/** Whether an endpoint subscribed to these types receives an event of `type`. */
export function subscribes(eventTypes: readonly string[], type: string): boolean {
  return eventTypes.includes(ALL_EVENT_TYPES) || eventTypes.includes(type);
}
