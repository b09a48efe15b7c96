import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  prettier,
  {
    ignores: [
      '**/dist',
      '**/out-tsc',
      '**/node_modules',
      '**/generated',
      '**/coverage',
      '.nx',
      'helm',
      'k8s',
    ],
  },
  {
    files: ['**/*.ts'],
    rules: {
      // Project tags on two axes (docs/decisions/0002-module-boundaries.md):
      //   type:*  what a project is (app, lib, testing, tool, e2e)
      //   scope:* who owns it (one per service, plus shared)
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: true,
          allow: [],
          depConstraints: [
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:lib', onlyDependOnLibsWithTags: ['type:lib'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['type:lib', 'type:tool'] },
            {
              sourceTag: 'type:testing',
              onlyDependOnLibsWithTags: ['type:lib', 'type:tool', 'type:testing'],
            },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:lib', 'type:tool', 'type:testing'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:user', onlyDependOnLibsWithTags: ['scope:user', 'scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
            { sourceTag: 'scope:context', onlyDependOnLibsWithTags: ['scope:context', 'scope:shared'] },
            { sourceTag: 'scope:ai-gateway', onlyDependOnLibsWithTags: ['scope:ai-gateway', 'scope:shared'] },
            {
              sourceTag: 'scope:integration',
              onlyDependOnLibsWithTags: ['scope:integration', 'scope:shared'],
            },
            { sourceTag: 'scope:system', onlyDependOnLibsWithTags: ['scope:shared'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-floating-promises': 'off',
    },
  },
  {
    // Test files of an app may use the shared testing helpers (type:testing).
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: {
      // Tests assert shapes right after arranging them; a failing `!` fails the test, as it should.
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@nx/enforce-module-boundaries': [
        'error',
        {
          allow: [],
          depConstraints: [
            { sourceTag: '*', onlyDependOnLibsWithTags: ['type:lib', 'type:testing', 'type:tool'] },
          ],
        },
      ],
    },
  },
];
