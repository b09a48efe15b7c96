// Proves a pruned production install (apps/<service>/Dockerfile, stage prod-deps) is what
// package-lock.json says: every installed package has the locked version and integrity, and none
// of them is a dev-only package. `npm install` (needed to install one workspace without the root's
// devDependencies) may otherwise resolve something the lock never had.
//
//   node verify-prod-install.mjs <original package-lock.json> <node_modules/.package-lock.json>
import { readFileSync } from 'node:fs';

const [lockPath, installedPath] = process.argv.slice(2);
if (!lockPath || !installedPath) {
  console.error('usage: node verify-prod-install.mjs <package-lock.json> <node_modules/.package-lock.json>');
  process.exit(2);
}
const locked = JSON.parse(readFileSync(lockPath, 'utf8')).packages;
const installed = JSON.parse(readFileSync(installedPath, 'utf8')).packages;

const problems = [];
let count = 0;
for (const [path, entry] of Object.entries(installed)) {
  if (path === '' || entry.link) continue;
  count += 1;
  const original = locked[path];
  if (!original) problems.push(`${path}: not in package-lock.json`);
  else if (original.version !== entry.version || original.integrity !== entry.integrity) {
    problems.push(`${path}: ${entry.version} installed, ${original.version} locked`);
  } else if (original.dev === true || original.devOptional === true) {
    problems.push(`${path}: a development-only package`);
  }
}
if (problems.length > 0) {
  console.error(`verify-prod-install: ${problems.length} problem(s):\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`verify-prod-install: ${count} packages, each as locked, none dev-only.`);
