export interface MethodName {
  /** Fully qualified service, e.g. 'te.user.v1.UserService' (the metric and health name). */
  service: string;
  /** RPC name as in the proto, e.g. 'Register'. */
  method: string;
}

/** Splits a gRPC method path ('/te.user.v1.UserService/Register'). */
export function parseMethodPath(path: string): MethodName {
  const match = /^\/([^/]+)\/([^/]+)$/.exec(path);
  return match ? { service: match[1], method: match[2] } : { service: 'unknown', method: path };
}
