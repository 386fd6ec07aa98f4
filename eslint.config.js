// Lint rules: typescript-eslint strict-type-checked, plus the layering of ARCHITECTURE.md as a table.
import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/, innermost first. A module may import modules of its own layer and of the
// layers before it; a row with `uses` only those it lists. A file belongs to the first
// row with a pattern that matches it. Pure decisions live in core wherever their folder is.
// Record types are defined with their stores, so `import type` from src/db/ is allowed everywhere.
const layers = [
  {
    layer: 'core',
    files: [
      'src/config.ts', 'src/errors.ts', 'src/logger.ts', 'src/names.ts', 'src/roles.ts', 'src/metrics.ts', 'src/buildpack-url.ts',
      'src/parse.ts', 'src/text-table.ts', 'src/terminal-text.ts', 'src/outbound-url.ts',
      'src/access/policy.ts', 'src/access/tokens.ts', 'src/access/public-key.ts',
      'src/hooks/push-plan.ts', 'src/hooks/hook-protocol.ts', 'src/hooks/hook-program.ts',
      'src/git/exec-command.ts', 'src/git/http-route.ts',
      'src/pipelines/definition.ts',
      'src/build/queue/release-rules.ts', 'src/build/runner/procfile.ts',
      'src/build/runner/app-manifest.ts', 'src/build/runner/app-json.ts', 'src/build/runner/deploy-settings.ts',
      'src/deploy/cron-schedule.ts', 'src/deploy/process-command.ts',
      'src/containers/labels.ts', 'src/containers/du-labels.ts',
      'src/backing-services/service-kinds.ts',
      'src/supply-chain/debian-version.ts', 'src/supply-chain/pep440.ts', 'src/supply-chain/version-match.ts', 'src/supply-chain/package-databases.ts',
      'src/supply-chain/inventory.ts', 'src/supply-chain/sbom.ts', 'src/supply-chain/dsse.ts', 'src/supply-chain/provenance.ts',
      'src/notifications/payloads.ts', 'src/previews/preview-rules.ts',
      'src/edge/haproxy-config.ts', 'src/edge/certificate-bundle.ts', 'src/edge/domain-rules.ts',
    ],
  },
  { layer: 'adapters', files: ['src/db/**', 'src/containers/**', 'src/git/git-process.ts', 'src/git/build-notes.ts', 'src/git/git-spawner.ts', 'src/git/git-spawner-program.ts', 'src/git/repo-store.ts', 'src/git/host-key.ts', 'src/supply-chain/signing-key.ts', 'src/edge/haproxy.ts', 'src/edge/acme.ts'] },
  {
    layer: 'domain',
    files: ['src/access/**', 'src/apps/**', 'src/hooks/**', 'src/build/**', 'src/deploy/**', 'src/backing-services/**', 'src/pipelines/**', 'src/git/git-access.ts', 'src/supply-chain/**', 'src/notifications/**', 'src/edge/**', 'src/previews/**'],
  },
  // Each operation (src/operations/<noun>.ts) is its contract and its implementation: at run time it
  // loads only core, so the CLI can read the contracts; the services it calls it gets passed in,
  // and imports as types alone.
  { layer: 'operations', files: ['src/operations/!(operations).ts'], uses: ['core'], typesFrom: 'any' },
  { layer: 'transports', files: ['src/http/**', 'src/git/**', 'src/operations/operations.ts'] },
  { layer: 'assembly', files: ['src/assembly/**', 'src/app.ts'] },
  { layer: 'entry', files: ['src/main.ts'] },
  // The CLI talks to the server over HTTP only; `solum worker` starts the process entry.
  { layer: 'client', files: ['src/cli/**'], uses: ['core', 'operations', 'entry'] },
];
const order = ['core', 'adapters', 'domain', 'operations', 'transports', 'assembly', 'entry'];

const root = import.meta.dirname;
// Globs: `**` any path, `*` one segment's characters, `!(x)` one segment that is not x.
const globRe = (g) =>
  new RegExp(`^${g.replace(/!\((\w+)\)/g, '\u0001$1\u0002').replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*\*/g, '\0').replace(/\*/g, '[^/]*').replace(/\0/g, '.*').replace(/\u0001(\w+)\u0002/g, '(?!$1\\.)[^/]*')}$`);
const rows = layers.map((r) => ({ ...r, res: r.files.map(globRe) }));
const layerOf = (rel) => rows.find((r) => r.res.some((re) => re.test(rel)));
const mayUse = (from, to) => from.layer === to.layer || (from.uses ? from.uses.includes(to.layer) : order.indexOf(to.layer) <= order.indexOf(from.layer));

const layering = {
  meta: { type: 'problem', schema: [], messages: { outward: '{{from}} ({{fromLayer}}) may not import {{to}} ({{toLayer}}): see the layer table in eslint.config.js and ARCHITECTURE.md', unplaced: '{{file}} is in no layer of eslint.config.js' } },
  create(context) {
    const file = path.relative(root, context.filename);
    if (!file.startsWith('src/')) return {};
    const from = layerOf(file);
    if (!from) {
      return { Program: (node) => { context.report({ node, messageId: 'unplaced', data: { file } }); } };
    }
    const check = (node, spec, typeOnly) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const to = path.relative(root, path.resolve(path.dirname(context.filename), spec)).replace(/\.js$/, '.ts');
      if (typeOnly && (to.startsWith('src/db/') || from.typesFrom === 'any')) return;
      const target = layerOf(to);
      if (!target || mayUse(from, target)) return;
      context.report({ node, messageId: 'outward', data: { from: file, fromLayer: from.layer, to, toLayer: target.layer } });
    };
    return {
      ImportDeclaration: (node) => { check(node, node.source.value, node.importKind === 'type' || (node.specifiers.length > 0 && node.specifiers.every((s) => s.importKind === 'type'))); },
      ExportNamedDeclaration: (node) => { if (node.source) check(node, node.source.value, node.exportKind === 'type'); },
      ExportAllDeclaration: (node) => { check(node, node.source.value, node.exportKind === 'type'); },
      ImportExpression: (node) => { if (node.source.type === 'Literal') check(node, node.source.value, false); },
    };
  },
};

const restrictions = (allowDockerode) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: allowDockerode ? [] : [{ name: 'dockerode', message: 'only src/containers/docker-engine.ts talks to Docker' }],
      patterns: [{ group: ['**/app.js', '**/assembly/*'], message: 'only main.ts (and the composition root) may import the assembly' }],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.provision/**', 'eslint.config.js', 'ava.config.js', 'language-packs/**'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: root } },
    plugins: { solum: { rules: { layering } } },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  { files: ['src/**/*.ts'], rules: { 'solum/layering': 'error', ...restrictions(false) } },
  { files: ['src/containers/docker-engine.ts'], rules: restrictions(true) },
  { files: ['src/main.ts', 'src/app.ts', 'src/assembly/**/*.ts'], rules: { 'no-restricted-imports': 'off' } },
  { files: ['test/**/*.ts', 'bench/**/*.ts'], rules: { '@typescript-eslint/no-non-null-assertion': 'off' } },
  // The dashboard is browser code with its own compiler settings (DOM types).
  { files: ['dashboard/**/*.ts'], languageOptions: { parserOptions: { projectService: false, project: ['./tsconfig.dashboard.json'], tsconfigRootDir: root } } },
);
