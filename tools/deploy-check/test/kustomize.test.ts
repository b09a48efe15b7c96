// kubectl kustomize for every base and overlay under k8s/, each object against the Kubernetes API
// schemas, and the references between the objects of every complete set (src/consistency.ts).
import { basename } from 'node:path';
import { consistencyProblems } from '../src/consistency.js';
import { kustomizations, kustomize, parseObjects, rel } from '../src/render.js';
import { validateObject } from '../src/validate.js';

// Components (overlays/<env>/environment) are built inside each overlay, never alone.
const buildable = kustomizations().filter((k) => !k.component);

describe.each(buildable.map((k) => [rel(k.dir), k.dir] as const))('kubectl kustomize %s', (name, dir) => {
  const objects = () => parseObjects(kustomize(dir));

  test('renders objects that are valid against the Kubernetes API schemas', () => {
    const rendered = objects();
    expect(rendered.length).toBeGreaterThan(0);
    expect(rendered.flatMap(validateObject)).toEqual([]);
  });

  // base/<service>/api and /worker are halves of one service: only the whole service is consistent.
  if (!['api', 'worker'].includes(basename(dir))) {
    test('selectors, probes, ports, HPA targets and workers are consistent', () => {
      expect(consistencyProblems(objects())).toEqual([]);
    });
  }
  void name;
});
