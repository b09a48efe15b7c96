import type { Express } from 'express';
import type { Scope } from '@te/platform';
import { NOT_AN_OPERATION, OPERATION, REQUIRED_SCOPES, type OperationSpec } from './operation.js';

/** One route of the Express app as registered: what the document is built from. */
export interface RegisteredRoute {
  method: string;
  /** The Express path with its mount prefixes, e.g. `/api/v1/sessions/:id/messages`. */
  path: string;
  /** The operation(s) declared in the route's handlers (exactly one is expected). */
  operations: OperationSpec[];
  /** Why the route is not an API operation, when it says so (notAnOperation). */
  excluded?: string;
  /** The scopes its requireAuth requires ([] = any authenticated caller); undefined = no requireAuth. */
  scopes?: readonly Scope[];
}

interface Marked {
  [OPERATION]?: OperationSpec;
  [NOT_AN_OPERATION]?: string;
  [REQUIRED_SCOPES]?: readonly Scope[];
  stack?: Layer[];
}

interface Layer {
  rawPath?: unknown;
  route?: { path: unknown; methods: Record<string, boolean>; stack: Layer[] };
  handle: Marked;
}

/**
 * Every route of the app, read from Express's own router (Express 5 / router 2 keep each layer's raw
 * path): mount prefixes joined, the markers of its handlers collected, and the scopes of the
 * requireAuth in its handlers (or of a `router.use(requireAuth(…))` before it).
 */
export function registeredRoutes(app: Express): RegisteredRoute[] {
  const routes: RegisteredRoute[] = [];
  const walk = (stack: Layer[], base: string, inherited: readonly Scope[] | undefined) => {
    let scopes = inherited;
    for (const layer of stack) {
      if (layer.route) {
        const handlers = layer.route.stack.map((l) => l.handle);
        const operations = handlers.flatMap((h) => (h[OPERATION] ? [h[OPERATION]] : []));
        const excluded = handlers.find((h) => h[NOT_AN_OPERATION] !== undefined)?.[NOT_AN_OPERATION];
        const declared = handlers.find((h) => h[REQUIRED_SCOPES])?.[REQUIRED_SCOPES] ?? scopes;
        const path = `${base}${String(layer.route.path)}`.replace(/(.)\/$/, '$1');
        for (const method of Object.keys(layer.route.methods).filter((m) => m !== '_all')) {
          routes.push({
            method: method.toUpperCase(),
            path,
            operations,
            ...(excluded !== undefined && { excluded }),
            ...(declared && { scopes: declared }),
          });
        }
      } else if (layer.handle.stack) {
        walk(layer.handle.stack, `${base}${typeof layer.rawPath === 'string' ? layer.rawPath : ''}`, scopes);
      } else if (layer.handle[REQUIRED_SCOPES]) {
        scopes = layer.handle[REQUIRED_SCOPES]; // router.use(requireAuth(...)) guards what follows
      }
    }
  };
  walk((app as unknown as { router: { stack: Layer[] } }).router.stack, '', undefined);
  return routes;
}
