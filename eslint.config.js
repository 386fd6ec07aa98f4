// Lint rules: typescript-eslint strict-type-checked, plus the layering rules from ARCHITECTURE.md.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Dependencies point inward: transports (git/*-transport, http, cli) → operations → services
// (access, hooks, build, deploy) → stores and adapters (db, docker adapter, git processes) → core.
const transports = ['**/git/ssh-transport.js', '**/git/http-transport.js', '**/http/*', '**/cli/*', '**/operations/**'];
const forbiddenBy = {
  db: [...transports, '**/access/*', '**/git/*', '**/hooks/*', '**/build/*', '**/deploy/*'],
  access: [...transports, '**/hooks/*', '**/build/*', '**/deploy/*', '**/git/*'],
  build: [...transports, '**/hooks/*', '**/deploy/*'],
  containers: [...transports, '**/hooks/*', '**/deploy/*', '**/build/*', '**/access/*', '**/git/*'],
  hooks: [...transports, '**/deploy/*'],
  deploy: [...transports, '**/hooks/*'],
  apps: [...transports, '**/hooks/*', '**/deploy/*'],
  services: [...transports, '**/hooks/*'],
  pipelines: [...transports, '**/hooks/*'],
  git: ['**/http/api.js', '**/http/hook-server.js', '**/cli/*', '**/build/*'],
  http: ['**/cli/*'],
};

// Operations are given their services; they import only core and each other at run time, so the
// CLI can load their contracts without loading the server.
const operationRules = [
  { group: ['**/git/*', '**/http/*', '**/cli/*', '**/hooks/*', '**/containers/*'], message: 'this import points outward (see ARCHITECTURE.md)' },
  {
    group: ['**/db/*', '**/access/*', '**/apps/*', '**/build/**', '**/deploy/*', '**/services/*', '**/pipelines/*', '**/app.js', '**/config.js', '**/logger.js'],
    allowTypeImports: true,
    message: 'operations get the services they use passed in: import their types only',
  },
];

// The CLI talks HTTP only: of the server it loads the operations' contracts and the core parsers;
// the views it reads as types.
const cliRules = [
  {
    group: ['**/db/*', '**/git/*', '**/build/**', '**/hooks/*', '**/access/*', '**/apps/*', '**/deploy/*', '**/services/*', '**/pipelines/*', '**/containers/*', '**/http/*', '**/operations/operations.js', '**/app.js'],
    message: 'the CLI reaches the server over HTTP only (see docs/cli.md)',
  },
  { group: ['**/operations/views.js'], allowTypeImports: true, message: 'the CLI reads the views as types' },
];

const restrictTs = (patterns) => ({
  'no-restricted-imports': 'off',
  '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'dockerode', message: 'only src/containers/docker-engine.ts talks to Docker' }], patterns }],
});

const restrict = (patterns, allowDockerode = false) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: allowDockerode ? [] : [{ name: 'dockerode', message: 'only src/containers/docker-engine.ts talks to Docker' }],
      patterns: [
        { group: ['**/app.js'], message: 'only main.ts may import the composition root' },
        ...patterns.map((p) => ({ group: [p], message: 'this import points outward (see ARCHITECTURE.md)' })),
      ],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.provision/**', 'eslint.config.js', 'ava.config.js', 'language-packs/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/*.ts'], ignores: ['src/main.ts'], rules: restrict([]) },
  ...Object.entries(forbiddenBy).map(([dir, patterns]) => ({ files: [`src/${dir}/**/*.ts`], rules: restrict(patterns) })),
  { files: ['src/containers/docker-engine.ts'], rules: restrict(forbiddenBy.containers, true) },
  { files: ['src/operations/**/*.ts'], rules: restrictTs(operationRules) },
  { files: ['src/cli/**/*.ts'], rules: restrictTs(cliRules) },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
  // The dashboard is browser code with its own compiler settings (DOM types).
  { files: ['dashboard/**/*.ts'], languageOptions: { parserOptions: { projectService: false, project: ['./tsconfig.dashboard.json'], tsconfigRootDir: import.meta.dirname } } },
);
