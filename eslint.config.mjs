import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

const APP_ALIASES = { group: ['@switchboard/api-app', '@switchboard/gateway-app'], message: 'Only tools/platform may import an app.' };

// The gateway's floors, ground first (docs/architecture.md): a folder of apps/gateway/src imports
// only from folders before it in this list; main.ts, the composition root, stands above them all.
const GATEWAY_FLOORS = ['config', 'protocol', 'catalog', 'auth', 'hosted', 'tenants', 'sessions', 'cluster', 'accounting', 'oauth', 'transports'];
const gatewayFloorRules = GATEWAY_FLOORS.map((floor, index) => {
  const above = [...GATEWAY_FLOORS.slice(index + 1), 'main'];
  return {
    files: [`apps/gateway/src/${floor}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            APP_ALIASES,
            { group: above.flatMap((upper) => [`../${upper}`, `../${upper}/**`]), message: `apps/gateway/src/${floor}/ may import only the floors below it: ${GATEWAY_FLOORS.slice(0, index).join(', ') || 'none'}.` },
          ],
        },
      ],
    },
  };
});

// Module boundaries: projects are tagged by scope (api, gateway, console, shared, plugin, platform) and
// type (app, feature, data-access, util, plugin, launcher) in their project.json. An app never
// imports the other app; libraries never import apps; plugins see only the plugin SDK.
export default [
  { ignores: ['dist/**', 'node_modules/**', '**/generated/**', 'coverage/**', '.data/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          // tools/platform is the one composition root that runs both apps in one process
          // (`npm start`); nothing else may import an app.
          allow: ['@switchboard/api-app', '@switchboard/gateway-app'],
          enforceBuildableLibDependency: false,
          depConstraints: [
            { sourceTag: 'scope:api', onlyDependOnLibsWithTags: ['scope:api', 'scope:shared'] },
            { sourceTag: 'scope:gateway', onlyDependOnLibsWithTags: ['scope:gateway', 'scope:shared'] },
            { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
            { sourceTag: 'scope:plugin', onlyDependOnLibsWithTags: ['type:plugin-sdk', 'type:test-util'] },
            { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:api', 'scope:gateway', 'scope:shared'] },
            { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:feature', 'type:data-access', 'type:util', 'type:plugin-sdk', 'type:test-util'] },
            { sourceTag: 'scope:bench', onlyDependOnLibsWithTags: ['scope:shared'] },
            // The web console runs in a browser and speaks to the API over HTTP only; its e2e spec uses the test utilities.
            { sourceTag: 'scope:console', onlyDependOnLibsWithTags: ['type:test-util'] },
            { sourceTag: 'type:launcher', onlyDependOnLibsWithTags: ['type:app', 'type:data-access', 'type:util', 'type:test-util'] },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util', 'type:data-access', 'type:plugin-sdk', 'type:test-util'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Configuration is read once per app by its config loader (STYLE.md); tests read it in libs/testing.
      'no-restricted-syntax': [
        'error',
        { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'Read configuration through the app config loader.' },
      ],
      'no-restricted-properties': ['error', { object: 'describe', property: 'only' }, { object: 'it', property: 'only' }, { object: 'test', property: 'only' }],
    },
  },
  {
    files: ['**/config/**/*.ts', '**/*.config.ts', 'libs/testing/**/*.ts', 'scripts/**', 'bench/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Only the launcher may use the app aliases that `allow` above opens up.
    files: ['apps/**/*.ts', 'libs/**/*.ts', 'plugins/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [APP_ALIASES] }],
    },
  },
  // After the block above: for these files the floor rule (which repeats APP_ALIASES) replaces it.
  ...gatewayFloorRules,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off', 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.e2e-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@typescript-eslint/no-explicit-any': 'off' },
  },
];
