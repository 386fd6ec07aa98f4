// Lint rules: typescript-eslint strict-type-checked, plus the layering rule from ARCHITECTURE.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const inward = (from, forbidden) => ({
  files: [`src/${from}/**/*.ts`],
  rules: {
    'no-restricted-imports': ['error', { patterns: forbidden.map((f) => ({ group: [f], message: `src/${from} must not depend on this layer (see ARCHITECTURE.md)` })) }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.provision/**', 'eslint.config.js', 'language-packs/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  // Dependencies point inward: transports → services → stores/adapters → core. Nothing imports app.ts.
  { files: ['src/**/*.ts'], rules: { 'no-restricted-imports': ['error', { patterns: [{ group: ['**/app.js', '../app.js'], message: 'only main.ts may import the composition root' }] }] } },
  inward('db', ['../git/*', '../http/*', '../build/*', '../hooks/*', '../access/*', '../deploy/*', '../cli/*', '**/app.js']),
  inward('access', ['../git/*', '../http/*', '../build/*', '../hooks/*', '../deploy/*', '../cli/*', '**/app.js']),
  inward('build', ['../git/ssh-transport.js', '../git/http-transport.js', '../http/*', '../hooks/*', '../cli/*', '**/app.js']),
  inward('hooks', ['../git/ssh-transport.js', '../git/http-transport.js', '../http/*', '../cli/*', '**/app.js']),
  { files: ['src/build/**/*.ts', '!src/build/docker-engine.ts'], rules: {} },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
);
