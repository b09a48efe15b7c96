#!/usr/bin/env node
// Scaffolds the boilerplate of a workspace project (package.json, project.json, tsconfigs, jest config).
// Usage: node tools/scaffold/new-project.mjs <dir> <kind: lib|app|tool|testing|e2e> <scope> [dep-dir ...]
// See docs/adding-a-service.md for the whole checklist.
import fs from 'node:fs';
import path from 'node:path';

const [dir, kind, scope, ...deps] = process.argv.slice(2);
if (!dir || !kind || !scope) {
  console.error('usage: new-project.mjs <dir> <lib|app|tool|testing|e2e> <scope> [dep-dir ...]');
  process.exit(2);
}
const root = path.resolve(import.meta.dirname, '../..');
const abs = path.join(root, dir);
const base = path.basename(dir);
const pkgName = `@te/${base}`;
const rel = (to) => path.relative(abs, path.join(root, to)) || '.';
const write = (file, content) => {
  const p = path.join(abs, file);
  if (fs.existsSync(p)) return;
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, typeof content === 'string' ? content : JSON.stringify(content, null, 2) + '\n');
};
const isApp = kind === 'app' || kind === 'e2e';
const buildConfig = isApp ? 'tsconfig.app.json' : 'tsconfig.lib.json';

write('package.json', {
  name: pkgName,
  version: '0.1.0',
  private: true,
  type: 'commonjs',
  ...(isApp
    ? { main: './dist/main.js' }
    : {
        main: './dist/index.js',
        types: './dist/index.d.ts',
        exports: {
          '.': { '@te/source': './src/index.ts', types: './dist/index.d.ts', default: './dist/index.js' },
          './package.json': './package.json',
        },
      }),
  dependencies: Object.fromEntries(deps.map((d) => [`@te/${path.basename(d)}`, '*'])),
});

const targets = {};
if (kind !== 'e2e') {
  targets.build = {
    executor: 'nx:run-commands',
    options: { command: `tsc -b ${buildConfig}`, cwd: '{projectRoot}' },
  };
}
targets.typecheck = {
  executor: 'nx:run-commands',
  options: { command: 'tsc -b tsconfig.json', cwd: '{projectRoot}' },
};
targets.lint = { executor: 'nx:run-commands', options: { command: 'eslint .', cwd: '{projectRoot}' } };
targets.test = {
  executor: 'nx:run-commands',
  options: { command: 'jest --config jest.config.cjs', cwd: '{projectRoot}' },
};
write('project.json', {
  name: base,
  $schema: rel('node_modules/nx/schemas/project-schema.json'),
  sourceRoot: `${dir}/src`,
  projectType: isApp ? 'application' : 'library',
  tags: [`scope:${scope}`, `type:${kind}`],
  targets,
});

const refs = (cfg) =>
  deps.map((d) => ({ path: path.join(rel(d), 'tsconfig.lib.json') })).concat(cfg ? [{ path: cfg }] : []);
write('tsconfig.json', {
  files: [],
  references: [...(kind === 'e2e' ? [] : [{ path: `./${buildConfig}` }]), { path: './tsconfig.spec.json' }],
});
if (kind !== 'e2e') {
  write(buildConfig, {
    extends: path.join(rel('.'), 'tsconfig.base.json'),
    compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo' },
    include: ['src/**/*.ts'],
    exclude: ['src/**/*.spec.ts'],
    references: refs(),
  });
}
write('tsconfig.spec.json', {
  extends: path.join(rel('.'), 'tsconfig.base.json'),
  compilerOptions: {
    outDir: 'out-tsc/spec',
    tsBuildInfoFile: 'out-tsc/spec/tsconfig.spec.tsbuildinfo',
    emitDeclarationOnly: true,
    types: ['node', 'jest'],
  },
  include: kind === 'e2e' ? ['src/**/*.ts', 'test/**/*.ts'] : ['src/**/*.spec.ts', 'test/**/*.ts'],
  references: kind === 'e2e' ? refs() : refs(`./${buildConfig}`),
});
write(
  'jest.config.cjs',
  `const preset = require('${rel('jest.preset.cjs')}');

module.exports = {
  ...preset,
  displayName: '${base}',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.test.ts'],
};
`,
);
write(
  'eslint.config.mjs',
  `import baseConfig from '${rel('eslint.config.mjs')}';

export default [...baseConfig];
`,
);
if (isApp && kind !== 'e2e') write('src/main.ts', '');
else if (kind !== 'e2e') write('src/index.ts', '');
console.log(`scaffolded ${pkgName} in ${dir}`);
