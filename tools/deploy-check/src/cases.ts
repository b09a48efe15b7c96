// What the tests render: every chart with every values file in the repo (discovered), plus the
// variants helm/README.md documents (workers on/off) and the optional objects (autoscaling,
// ServiceMonitor/PodMonitor) that no values file turns on.
import { join } from 'node:path';
import { charts, type HelmCase, isLibraryChart, repoRoot, valueSets } from './render.js';

const umbrella = join(repoRoot, 'helm', 'te-explico');
const chart = (name: string) => join(repoRoot, 'helm', 'charts', name);
const bothWorkers = ['context-service.worker.enabled=true', 'context-service.config.STORAGE_DRIVER=s3'];

/** The umbrella with both workers on (compared with kustomize's workers). */
export const umbrellaBothWorkers: HelmCase = { chart: umbrella, valuesFiles: [], set: bothWorkers };

export const variants: HelmCase[] = [
  umbrellaBothWorkers,
  { chart: umbrella, valuesFiles: [join(umbrella, 'values-production.yaml')], set: bothWorkers },
  { chart: umbrella, valuesFiles: [], set: ['ai-gateway-service.worker.enabled=false'] },
  {
    chart: umbrella,
    valuesFiles: [join(umbrella, 'values-production.yaml')],
    set: [
      ...bothWorkers,
      ...[
        'ai-gateway-service',
        'context-service',
        'user-service',
        'api-gateway',
        'integration-service',
      ].flatMap((s) => [`${s}.autoscaling.enabled=true`, `${s}.metrics.serviceMonitor.enabled=true`]),
      'ai-gateway-service.worker.autoscaling.enabled=true',
      'context-service.worker.autoscaling.enabled=true',
    ],
  },
  {
    chart: chart('context-service'),
    valuesFiles: [],
    set: ['worker.enabled=true', 'config.STORAGE_DRIVER=s3'],
  },
  { chart: chart('ai-gateway-service'), valuesFiles: [], set: ['worker.enabled=false'] },
];

/** Every case `helm lint --strict` checks (the library chart included). */
export const lintCases = (): HelmCase[] => [...charts().flatMap(valueSets), ...variants];

/** Every case `helm template` renders (a library chart renders nothing). */
export const templateCases = (): HelmCase[] => lintCases().filter((c) => !isLibraryChart(c.chart));
