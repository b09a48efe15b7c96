// References between rendered objects that no schema sees: selectors that must pick exactly one
// Deployment's pods, probes and NetworkPolicy ports that must name declared container ports, HPA
// targets that must exist, and the worker Deployments' contract (helm/README.md "Workers").
import { describe, type KubeObject } from './validate.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered objects, already schema-validated */
type Obj = KubeObject & { spec: any; metadata: any };

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) =>
  Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
const containerPorts = (dep: Obj): Set<string> =>
  new Set(dep.spec.template.spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name)));

/** The problems found in one rendered set of objects; empty when consistent. */
export function consistencyProblems(objects: KubeObject[]): string[] {
  const docs = objects as Obj[];
  const errors: string[] = [];
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const deployments = byKind('Deployment');
  const podsOf = (selector: Record<string, string> | undefined) =>
    deployments.filter((d) => selects(selector, d.spec.template.metadata?.labels));
  const names = (kind: string) => new Set(byKind(kind).map((d) => d.metadata.name));

  const migrationHooks = byKind('Job').some((j) => j.metadata.annotations?.['helm.sh/hook']);
  const seen = new Set<string>();
  for (const d of docs) {
    const id = describe(d);
    if (seen.has(id)) errors.push(`${id}: rendered twice`);
    seen.add(id);
  }

  // Each selector must select the pods of exactly one Deployment, the one of the same name.
  const selectsOwnDeployment = (o: Obj, selector: Record<string, string> | undefined) => {
    const pods = podsOf(selector);
    if (pods.length !== 1 || pods[0].metadata.name !== o.metadata.name) {
      errors.push(`${describe(o)} selects the pods of [${pods.map((p) => p.metadata.name).join(', ')}]`);
    }
    return pods[0];
  };

  for (const dep of deployments) {
    const id = describe(dep);
    const spec = dep.spec.template.spec;
    if (!selects(dep.spec.selector.matchLabels, dep.spec.template.metadata?.labels)) {
      errors.push(`${id}: its selector does not match its own pods`);
    }
    if (podsOf(dep.spec.selector.matchLabels).length !== 1)
      errors.push(`${id}: its selector overlaps another Deployment`);
    if (spec.serviceAccountName && !names('ServiceAccount').has(spec.serviceAccountName)) {
      errors.push(`${id}: ServiceAccount ${spec.serviceAccountName} is not rendered`);
    }
    const volumes = new Set((spec.volumes ?? []).map((v: any) => v.name));
    for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
      const ports = new Set((c.ports ?? []).map((p: any) => p.name));
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port ?? c[probe]?.grpc?.port;
        if (typeof port === 'string' && !ports.has(port))
          errors.push(`${id}: ${c.name} ${probe} on undeclared port ${port}`);
      }
      for (const e of c.envFrom ?? []) {
        if (e.configMapRef && !names('ConfigMap').has(e.configMapRef.name)) {
          errors.push(`${id}: ConfigMap ${e.configMapRef.name} is not rendered`);
        }
      }
      for (const m of c.volumeMounts ?? [])
        if (!volumes.has(m.name)) errors.push(`${id}: mounts missing volume ${m.name}`);
    }
    for (const c of spec.containers) {
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe'])
        if (!c[probe]) errors.push(`${id}: no ${probe}`);
    }
    if (dep.metadata.name.endsWith('-worker')) {
      const exposed = spec.containers.flatMap((c: any) => (c.ports ?? []).map((p: any) => p.name));
      if (exposed.join() !== 'ops')
        errors.push(`${id}: a worker exposes [${exposed.join(', ')}], not only ops`);
      // Helm migrates in a hook Job before any Deployment changes; kustomize has no hooks, so there
      // every pod of the service, the worker's too, migrates in an init container (decision 0008).
      if (spec.initContainers && migrationHooks) errors.push(`${id}: a worker migrates, yet a hook Job does`);
      const api = deployments.find((d) => d.metadata.name === dep.metadata.name.replace(/-worker$/, ''));
      if (!api) errors.push(`${id}: no API Deployment beside it`);
      else if (api.spec.template.spec.serviceAccountName !== spec.serviceAccountName) {
        errors.push(`${id}: ServiceAccount differs from the API's`);
      }
    }
    const hpa = byKind('HorizontalPodAutoscaler').find(
      (h) => h.spec.scaleTargetRef.name === dep.metadata.name,
    );
    if (hpa && dep.spec.replicas !== undefined) errors.push(`${id}: replicas set while an HPA scales it`);
  }

  for (const s of byKind('Service')) selectsOwnDeployment(s, s.spec.selector);
  for (const o of [...byKind('PodDisruptionBudget'), ...byKind('PodMonitor')]) {
    selectsOwnDeployment(o, o.spec.selector?.matchLabels);
  }
  for (const np of byKind('NetworkPolicy')) {
    const dep = selectsOwnDeployment(np, np.spec.podSelector?.matchLabels);
    const ports = dep ? containerPorts(dep) : new Set<string>();
    const allowed = (np.spec.ingress ?? []).flatMap((r: any) => (r.ports ?? []).map((p: any) => p.port));
    for (const port of allowed)
      if (!ports.has(port)) errors.push(`${describe(np)}: port ${port} is not on its pods`);
    if (np.metadata.name.endsWith('-worker') && allowed.join() !== 'ops') {
      errors.push(`${describe(np)}: a worker admits [${allowed.join(', ')}], not only ops`);
    }
  }
  for (const h of byKind('HorizontalPodAutoscaler')) {
    const target = h.spec.scaleTargetRef;
    if (!docs.some((d) => d.kind === target.kind && d.metadata.name === target.name)) {
      errors.push(`${describe(h)}: target ${target.kind}/${target.name} is not rendered`);
    }
  }
  for (const sm of byKind('ServiceMonitor')) {
    if (!byKind('Service').some((s) => selects(sm.spec.selector?.matchLabels, s.metadata.labels))) {
      errors.push(`${describe(sm)}: selects no Service`);
    }
  }
  // A queue switch turned off in an API's ConfigMap leaves the queue to a worker, which must exist.
  const switches: Record<string, string[]> = {
    'ai-gateway-service': ['INFERENCE_WORKER_ENABLED'],
    'context-service': ['OCR_WORKER_ENABLED', 'REPLY_WORKER_ENABLED'],
  };
  for (const [service, keys] of Object.entries(switches)) {
    const data = byKind('ConfigMap').find((c) => c.metadata.name === `${service}-config`)?.data as
      Record<string, string> | undefined;
    const worker = names('Deployment').has(`${service}-worker`);
    for (const key of keys) {
      if (data?.[key] === 'false' && !worker)
        errors.push(`${service}: ${key}=false but no ${service}-worker`);
    }
  }
  return errors;
}

/**
 * The worker Deployments rendered by Helm against kustomize's (k8s/base/<service>/worker): the same
 * container essentials (decision 0008: both describe the same objects). Replicas and the config
 * checksum differ by design.
 */
export function workerDifferences(helm: KubeObject[], kustomize: KubeObject[]): string[] {
  const errors: string[] = [];
  const workers = (objects: KubeObject[]) =>
    (objects as Obj[]).filter((o) => o.kind === 'Deployment' && o.metadata.name.endsWith('-worker'));
  const pick = (d: Obj) => {
    const s = d.spec.template.spec;
    const c = s.containers[0];
    return {
      selector: d.spec.selector.matchLabels['app.kubernetes.io/name'],
      serviceAccountName: s.serviceAccountName,
      terminationGracePeriodSeconds: s.terminationGracePeriodSeconds,
      podSecurityContext: s.securityContext,
      container: c.name,
      command: c.command,
      ports: c.ports,
      secretEnv: (c.env ?? []).map(
        (e: any) => `${e.name}<-${e.valueFrom?.secretKeyRef?.name}/${e.valueFrom?.secretKeyRef?.key}`,
      ),
      probes: [c.startupProbe, c.livenessProbe, c.readinessProbe],
      securityContext: c.securityContext,
      volumes: s.volumes,
    };
  };
  // Key order is not meaning: compare with sorted keys.
  const norm = (o: unknown) =>
    JSON.stringify(o, (_k, v) =>
      v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v,
    );
  const helmWorkers = workers(helm);
  const kustomizeWorkers = workers(kustomize);
  if (kustomizeWorkers.length === 0) errors.push('kustomize rendered no worker Deployment');
  for (const k of kustomizeWorkers) {
    const h = helmWorkers.find((d) => d.metadata.name === k.metadata.name);
    if (!h) {
      errors.push(`${describe(k)}: not rendered by Helm`);
      continue;
    }
    const [a, b] = [pick(k), pick(h)] as [Record<string, unknown>, Record<string, unknown>];
    for (const key of Object.keys(a)) {
      if (norm(a[key]) !== norm(b[key])) {
        errors.push(`${describe(k)}: ${key} differs, kustomize ${norm(a[key])} vs helm ${norm(b[key])}`);
      }
    }
  }
  return errors;
}
