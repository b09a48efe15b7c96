// The checkers themselves: each flags the mistake it exists for, so a green run means something.
import { consistencyProblems } from '../src/consistency.js';
import { type KubeObject, validateObject } from '../src/validate.js';

const labels = { 'app.kubernetes.io/name': 'svc' };
const deployment = (name: string, ports: string[], probePort = 'ops'): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    selector: { matchLabels: { 'app.kubernetes.io/name': name } },
    template: {
      metadata: { labels: { 'app.kubernetes.io/name': name } },
      spec: {
        containers: [
          {
            name,
            image: 'x',
            ports: ports.map((p, i) => ({ name: p, containerPort: 8000 + i })),
            startupProbe: { httpGet: { path: '/healthz', port: probePort } },
            livenessProbe: { httpGet: { path: '/healthz', port: probePort } },
            readinessProbe: { httpGet: { path: '/readyz', port: probePort } },
          },
        ],
      },
    },
  },
});

test('When a field has the wrong type or a required field is missing, then validateObject names it', () => {
  const bad = deployment('svc', ['ops']) as { spec: { replicas?: unknown } } & KubeObject;
  bad.spec.replicas = '2';
  expect(validateObject(bad).join()).toMatch(/spec\/replicas must be integer/);
  expect(
    validateObject({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { ports: [{}] },
    }).join(),
  ).toMatch(/ports\/0 must have required property port/);
  expect(validateObject({ apiVersion: 'v1', kind: 'Nonsense', metadata: { name: 'n' } })).toEqual([
    'Nonsense/n: v1/Nonsense is not a known Kubernetes API kind',
  ]);
  expect(validateObject(deployment('svc', ['ops']))).toEqual([]);
});

test('When a custom resource has no spec, then the structural check flags it', () => {
  const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'm' } };
  expect(validateObject(monitor)).toEqual(['ServiceMonitor/m: no spec']);
  expect(validateObject({ ...monitor, spec: { selector: {} } })).toEqual([]);
});

test('When selectors, probes, ports or HPA targets do not line up, then consistencyProblems lists each', () => {
  const problems = consistencyProblems([
    deployment('svc', ['http', 'ops'], 'metrics'),
    deployment('svc-worker', ['grpc', 'ops']),
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc' }, spec: { selector: { app: 'none' } } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'svc' },
      spec: { podSelector: { matchLabels: labels }, ingress: [{ ports: [{ port: 'grpc' }] }] },
    },
    {
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'gone' },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'gone' } },
    },
  ]);
  expect(problems).toEqual(
    expect.arrayContaining([
      'Deployment/svc: svc startupProbe on undeclared port metrics',
      'Deployment/svc-worker: a worker exposes [grpc, ops], not only ops',
      'Service/svc selects the pods of []',
      'NetworkPolicy/svc: port grpc is not on its pods',
      'HorizontalPodAutoscaler/gone: target Deployment/gone is not rendered',
    ]),
  );
});
