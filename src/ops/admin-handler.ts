/**
 * The admin API's actions, run on the front end (admin-protocol.ts AdminHandler): each is
 * a call into the model registry, which also owns the experiments
 * (src/models/model-registry.ts). The operations thread has already authenticated the
 * call, parsed its JSON body, and will log and count it.
 */
import type { ModelRegistry } from '../models/model-registry';
import type { AdminHandler, AdminResult } from './admin-protocol';

/** What the actions work on. */
export interface AdminHandlerDeps {
  registry: ModelRegistry;
}

function objectBody(body: unknown): Record<string, unknown> | null {
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
}

const kNotObject: AdminResult = { status: 400, body: { code: 'INVALID_TYPE', errors: ['the body must be a JSON object'] } };

export function createAdminHandler(deps: AdminHandlerDeps): AdminHandler {
  const r = deps.registry;
  return {
    handle: async (action, body): Promise<AdminResult> => {
      const b = objectBody(body);
      switch (action) {
        case 'models.list':
          return r.list();
        case 'models.reload':
          return r.reload();
        case 'models.activate':
          return b === null ? kNotObject : r.activate(b.model);
        case 'models.shadow':
          return b === null ? kNotObject : r.shadow(b);
        case 'models.canary':
          return b === null ? kNotObject : r.canaryCall(b);
        case 'experiments.list':
          return r.listExperiments();
        case 'experiments.reload':
          return r.reloadExperiments();
      }
    },
  };
}
