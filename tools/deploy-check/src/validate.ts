// Every rendered object against the Kubernetes API schemas (OpenAPI, via kubernetes-models): the model
// class of its apiVersion/kind validates it, so a misspelt field, a wrong type or a missing required
// field fails here, offline. Prometheus Operator kinds have no schema in kubernetes-models (that is
// @kubernetes-models/prometheus-operator, not a dependency): they get a structural check only.

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: object) => Validatable;

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, unknown> };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Custom resources checked structurally: apiVersion, kind, metadata.name and spec present. */
export const structuralOnly = new Set([
  'monitoring.coreos.com/v1/ServiceMonitor',
  'monitoring.coreos.com/v1/PodMonitor',
  'monitoring.coreos.com/v1/PrometheusRule',
]);

const modelCache = new Map<string, ModelClass | undefined>();

function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  const key = `${apiVersion}/${kind}`;
  if (!modelCache.has(key)) {
    let model: ModelClass | undefined;
    try {
      // kubernetes-models/<group>/<version>/<Kind>, core group as v1/<Kind>.
      model = (require(`kubernetes-models/${key}`) as Record<string, ModelClass>)[kind];
    } catch (error) {
      // Only "no such kind" is an answer; a module that fails to load is a broken setup.
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
      model = undefined;
    }
    modelCache.set(key, model);
  }
  return modelCache.get(key);
}

export const describe = (o: KubeObject): string => `${o.kind ?? '?'}/${o.metadata?.name ?? '?'}`;

/** The problems of one object; empty when it is valid. */
export function validateObject(o: KubeObject): string[] {
  if (!o.apiVersion || !o.kind || !o.metadata?.name) {
    return [`${describe(o)}: apiVersion, kind and metadata.name are required`];
  }
  const key = `${o.apiVersion}/${o.kind}`;
  if (structuralOnly.has(key)) {
    return typeof o.spec === 'object' && o.spec !== null ? [] : [`${describe(o)}: no spec`];
  }
  const Model = modelFor(o.apiVersion, o.kind);
  if (!Model) return [`${describe(o)}: ${key} is not a known Kubernetes API kind`];
  try {
    new Model(o).validate();
    return [];
  } catch (error) {
    return [`${describe(o)}: ${(error as Error).message}`];
  }
}
