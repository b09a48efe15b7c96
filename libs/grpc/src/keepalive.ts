import type { ChannelOptions, ServerOptions } from '@grpc/grpc-js';

/**
 * Connection settings shared by every server and client (grpc-js option names:
 * https://github.com/grpc/grpc-node/tree/master/packages/grpc-js#supported-channel-options).
 *
 * - Keepalive pings every 30 s, connection dropped when a ping is unanswered for 10 s: a peer that
 *   vanished (pod killed, node lost, NAT/conntrack entry expired) is noticed in under a minute instead
 *   of after the kernel's TCP timeout, and idle connections are not silently cut by middleboxes.
 * - Clients ping even without calls in flight, so the first call after a quiet period finds a live
 *   connection. grpc-js servers accept pings at any rate; a non-Node server (grpc-go, Envoy) must permit
 *   30 s pings (e.g. grpc-go `EnforcementPolicy{MinTime: 20s, PermitWithoutStream: true}`).
 * - Servers close each connection after 5 minutes (+30 s grace for calls in flight): HTTP/2 connections
 *   are long-lived, so without this a client would stick to the pods it first met and never use new
 *   replicas. Clients reconnect transparently.
 */
export const KEEPALIVE_TIME_MS = 30_000;
export const KEEPALIVE_TIMEOUT_MS = 10_000;
export const MAX_CONNECTION_AGE_MS = 5 * 60_000;
export const MAX_CONNECTION_AGE_GRACE_MS = 30_000;

export const SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.max_connection_age_ms': MAX_CONNECTION_AGE_MS,
  'grpc.max_connection_age_grace_ms': MAX_CONNECTION_AGE_GRACE_MS,
});

export const CLIENT_OPTIONS: Readonly<ChannelOptions> = Object.freeze({
  'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
  'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
  'grpc.keepalive_permit_without_calls': 1,
  // With a `dns:///` address that resolves to every replica (a headless Kubernetes Service), spread calls
  // over all of them instead of pinning one (grpc's default is pick_first).
  'grpc.service_config': JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] }),
});
