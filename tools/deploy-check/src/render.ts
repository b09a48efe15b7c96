// Finding what to render (charts, values files, kustomizations) and rendering it with the extracted
// helm and kubectl. Every command runs offline; its stderr is part of the error a failing test prints.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { helmPath, kubectlPath } from './binaries.js';
import type { KubeObject } from './validate.js';

export const repoRoot = join(__dirname, '..', '..', '..');
const helmRoot = join(repoRoot, 'helm');
const k8sRoot = join(repoRoot, 'k8s');
export const rel = (path: string): string => relative(repoRoot, path) || '.';

/** One `helm lint` / `helm template` invocation: a chart with values files and --set overrides. */
export interface HelmCase {
  chart: string;
  valuesFiles: string[];
  set: string[];
}

export const describeCase = (c: HelmCase): string =>
  [rel(c.chart), ...c.valuesFiles.map((f) => `-f ${rel(f)}`), ...c.set.map((s) => `--set ${s}`)].join(' ');

const directories = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => join(dir, e.name))
    .sort();

/** Every chart: helm/charts/* (the library chart included) and the umbrella helm/te-explico. */
export const charts = (): string[] => [
  ...directories(join(helmRoot, 'charts')),
  ...directories(helmRoot).filter((d) => d !== join(helmRoot, 'charts') && existsSync(join(d, 'Chart.yaml'))),
];

export const isLibraryChart = (chart: string): boolean =>
  /^type:\s*library\s*$/m.test(readFileSync(join(chart, 'Chart.yaml'), 'utf8'));

/** A chart's own values.yaml is always applied; each values-<env>.yaml beside it is one more case. */
export function valueSets(chart: string): HelmCase[] {
  const extra = readdirSync(chart)
    .filter((f) => /^values-.+\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(chart, f));
  return [{ chart, valuesFiles: [], set: [] }, ...extra.map((f) => ({ chart, valuesFiles: [f], set: [] }))];
}

export class CommandError extends Error {}

function run(binary: string, args: string[]): string {
  try {
    return execFileSync(binary, args, {
      cwd: repoRoot,
      encoding: 'utf8',
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (error) {
    const e = error as { status?: number; stdout?: string; stderr?: string };
    throw new CommandError(
      `${rel(binary)} ${args.join(' ')} exited ${e.status}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`.trim(),
    );
  }
}

const helmArgs = (c: HelmCase): string[] => [
  ...c.valuesFiles.flatMap((f) => ['-f', f]),
  ...c.set.flatMap((s) => ['--set', s]),
];

export const helmDependencyBuild = (chart: string): string => run(helmPath, ['dependency', 'build', chart]);
export const helmLint = (c: HelmCase): string => run(helmPath, ['lint', '--strict', c.chart, ...helmArgs(c)]);
export const helmTemplate = (c: HelmCase): string =>
  run(helmPath, ['template', 'te-explico', c.chart, '--namespace', 'te-explico', ...helmArgs(c)]);

/** Every folder under k8s/ with a kustomization.yaml, and whether it is a Component (not buildable alone). */
export function kustomizations(dir = k8sRoot): { dir: string; component: boolean }[] {
  const found: { dir: string; component: boolean }[] = [];
  const file = join(dir, 'kustomization.yaml');
  if (existsSync(file)) {
    found.push({ dir, component: /^kind:\s*Component\s*$/m.test(readFileSync(file, 'utf8')) });
  }
  for (const sub of directories(dir)) found.push(...kustomizations(sub));
  return found;
}

export const kustomize = (dir: string): string => run(kubectlPath, ['kustomize', dir]);

/** The objects of a multi-document YAML stream; a YAML error fails (with the document's position). */
export function parseObjects(text: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('\n'));
    const value = doc.toJS() as KubeObject | null;
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}
