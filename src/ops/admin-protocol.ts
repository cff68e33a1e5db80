/**
 * The admin API in one place: its actions, the table that routes a method and path to one,
 * and the handler the front end runs them with. The operations thread checks the token,
 * reads and parses the body and forwards the action (OpsMessage 'admin'); the front end
 * runs it (AdminHandler) and answers ('admin-result'). The operations thread does none of
 * the work, so a model reload never holds a scrape.
 *
 * Pure: no uWebSockets.js, no threads.
 */

export type AdminAction =
  | 'models.list'
  | 'models.reload'
  | 'models.activate'
  | 'models.shadow'
  | 'models.canary'
  | 'experiments.list'
  | 'experiments.reload';

/** What an action answers: `body` is sent as JSON (undefined: no body). */
export interface AdminResult {
  status: number;
  body: unknown;
}

/**
 * Runs the admin actions, on the front end's thread. `body` is the request's parsed JSON
 * ({} for a GET or an empty body). An expected failure is a result (a 4xx with a code);
 * a throw becomes 500 INTERNAL, its message logged.
 */
export interface AdminHandler {
  handle(action: AdminAction, body: unknown): Promise<AdminResult>;
}

export type AdminMethod = 'GET' | 'POST';

export interface AdminRoute {
  method: AdminMethod;
  path: string;
  action: AdminAction;
}

/** Every action, once. */
export const ADMIN_ROUTES: readonly AdminRoute[] = [
  { method: 'GET', path: '/admin/models', action: 'models.list' },
  { method: 'POST', path: '/admin/models/reload', action: 'models.reload' },
  { method: 'POST', path: '/admin/models/activate', action: 'models.activate' },
  { method: 'POST', path: '/admin/models/shadow', action: 'models.shadow' },
  { method: 'POST', path: '/admin/models/canary', action: 'models.canary' },
  { method: 'GET', path: '/admin/experiments', action: 'experiments.list' },
  { method: 'POST', path: '/admin/experiments/reload', action: 'experiments.reload' },
];

export const ADMIN_ACTIONS: readonly AdminAction[] = ADMIN_ROUTES.map((r) => r.action);

/** The action label of a request that names none (unknown path, wrong method). */
export const kNoAction = 'unknown';

export type AdminMatch =
  | { kind: 'action'; route: AdminRoute }
  /** A known path asked with another method; `allow` is the Allow header. */
  | { kind: 'wrong-method'; allow: string }
  | { kind: 'unknown' };

const kUnknown: AdminMatch = { kind: 'unknown' };

/** Path → method → match, built once: a request looks its route up, it never scans. */
const kByPath: ReadonlyMap<string, ReadonlyMap<string, AdminMatch>> = (() => {
  const byPath = new Map<string, AdminRoute[]>();
  for (const r of ADMIN_ROUTES) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const out = new Map<string, Map<string, AdminMatch>>();
  for (const [path, routes] of byPath) {
    const byMethod = new Map<string, AdminMatch>();
    for (const route of routes) byMethod.set(route.method, { kind: 'action', route });
    const wrong: AdminMatch = { kind: 'wrong-method', allow: routes.map((r) => r.method).join(', ') };
    byMethod.set('', wrong);
    out.set(path, byMethod);
  }
  return out;
})();

/** The route of `method` (any case) and `path` (no query string). */
export function matchAdmin(method: string, path: string): AdminMatch {
  const byMethod = kByPath.get(path);
  if (byMethod === undefined) return kUnknown;
  return byMethod.get(method.toUpperCase()) ?? byMethod.get('')!;
}

/** The result label of bidder_admin_requests_total{action,result}. */
export type AdminResultLabel =
  | 'ok'
  | 'bad_request'
  | 'unauthorized'
  | 'not_found'
  | 'method_not_allowed'
  | 'not_implemented'
  | 'timeout'
  | 'error'
  | 'disabled';

/** What an answer's status counts as (`disabled` is counted by name: it is a 404 too). */
export function adminResultOf(status: number): AdminResultLabel {
  if (status < 400) return 'ok';
  switch (status) {
    case 401:
    case 403:
      return 'unauthorized';
    case 404:
      return 'not_found';
    case 405:
      return 'method_not_allowed';
    case 501:
      return 'not_implemented';
    case 504:
      return 'timeout';
  }
  return status < 500 ? 'bad_request' : 'error';
}

/**
 * How long the operations thread waits for the front end's answer before it answers 504
 * ADMIN_TIMEOUT: a model reload takes a few seconds.
 */
export const kAdminTimeoutMs = 30_000;
/** Largest admin request body; a larger one is 413 BODY_TOO_LARGE (admin bodies are small JSON). */
export const kMaxAdminBodyBytes = 64 * 1024;
/** The realm of the 401's WWW-Authenticate. */
export const kAdminRealm = 'bidder-admin';
