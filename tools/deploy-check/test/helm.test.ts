// helm lint --strict and helm template for every chart and values set, each rendered object against
// the Kubernetes API schemas, and the references between the objects (src/consistency.ts).
import { join } from 'node:path';
import { lintCases, templateCases, umbrellaBothWorkers } from '../src/cases.js';
import { consistencyProblems, workerDifferences } from '../src/consistency.js';
import { describeCase, helmLint, helmTemplate, kustomize, parseObjects, repoRoot } from '../src/render.js';
import { validateObject, type KubeObject } from '../src/validate.js';

const renders = new Map<string, KubeObject[]>();
const render = (c: Parameters<typeof helmTemplate>[0]): KubeObject[] => {
  const key = describeCase(c);
  if (!renders.has(key)) renders.set(key, parseObjects(helmTemplate(c)));
  return renders.get(key) ?? [];
};

describe.each(lintCases().map((c) => [describeCase(c), c] as const))('helm lint --strict %s', (_name, c) => {
  test('passes with no warnings', () => {
    expect(helmLint(c)).toMatch(/0 chart\(s\) failed/);
  });
});

describe.each(templateCases().map((c) => [describeCase(c), c] as const))('helm template %s', (_name, c) => {
  test('renders objects that are valid against the Kubernetes API schemas', () => {
    const objects = render(c);
    expect(objects.length).toBeGreaterThan(0);
    expect(objects.flatMap(validateObject)).toEqual([]);
  });

  test('selectors, probes, ports, HPA targets and workers are consistent', () => {
    expect(consistencyProblems(render(c))).toEqual([]);
  });
});

test('When context-service.worker.enabled without STORAGE_DRIVER=s3, then helm template fails and says why', () => {
  const c = {
    chart: join(repoRoot, 'helm', 'te-explico'),
    valuesFiles: [],
    set: ['context-service.worker.enabled=true'],
  };
  expect(() => helmTemplate(c)).toThrow(/worker\.enabled needs config\.STORAGE_DRIVER=s3/);
});

test('The worker Deployments rendered by Helm match kustomize k8s/base (container, probes, security, volumes)', () => {
  const kustomized = parseObjects(kustomize(join(repoRoot, 'k8s', 'base')));
  expect(workerDifferences(render(umbrellaBothWorkers), kustomized)).toEqual([]);
});
