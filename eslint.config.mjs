import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// Top-level folders of the tree; an import reaching one of `banned` from `files` is an error.
const FOLDERS = {
  nodes: 'nodes',
  credentials: 'credentials',
  n8n: 'src/n8n',
  node: 'src/node',
  'node-red': 'src/node-red',
  cli: 'src/cli',
  simulator: 'src/simulator',
};
// The n8n and Node-RED code reaches BMW's network (axios, mqtt) and the broker (aedes) only through src/node's
// adapters, which load them on first use.
const NETWORK = ['axios', 'mqtt', 'aedes'].map((name) => ({ name, message: "reach the network through src/node's adapters" }));
function layer(files, banned, why, paths = []) {
  const regex = `^(\\.\\.?/)+(${banned.map((b) => FOLDERS[b].replace(/^src\//, '(src/)?')).join('|')})(/|$)`;
  return [{ files, rules: { 'no-restricted-imports': ['error', { paths, patterns: [{ regex, message: why }] }] } }];
}

// Core's rooms and the rooms each may import (every room may import the ground, src/core/*.ts).
const CORE_ROOMS = { login: [], rows: [], api: ['login', 'rows'], stream: ['login'], live: ['stream'] };
const CORE_MODULES = ['fs', 'path', 'os', 'net', 'tls', 'http', 'https', 'child_process', 'util', 'axios', 'mqtt', 'aedes', 'n8n-workflow'];
function coreRules(files, patterns) {
  return [
    {
      files,
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: CORE_MODULES.map((name) => ({
              name,
              message: 'src/core is pure: Node.js and host modules belong in src/node or a host folder, passed in through a port.',
            })),
            patterns: [{ group: ['node:*'], message: 'src/core is pure: Node.js modules belong in src/node.' }, ...patterns],
          },
        ],
        'no-restricted-globals': [
          'error',
          ...[
            'setTimeout',
            'setInterval',
            'setImmediate',
            'clearTimeout',
            'clearInterval',
            'clearImmediate',
            'process',
            'global',
            'globalThis',
            '__dirname',
            '__filename',
            'require',
            'console',
          ].map((name) => ({
            name,
            message: 'src/core has no timers, process or console of its own: take a port (sleep, clock, timers, warn) from the host.',
          })),
        ],
        'no-new-func': 'error',
        'no-eval': 'error',
      },
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '.sandbox/**', 'test-output/**', '.stryker-tmp*/**', 'reports/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Core is pure: it reaches the network, the clock, timers and storage only through the ports its hosts pass in,
  // and imports nothing above it (adapters, hosts, the simulator). n8n's scanner sees the same code in the n8n package.
  ...coreRules(
    ['src/core/*.ts'],
    [
      { group: ['../*'], message: 'src/core imports nothing above it.' },
      { regex: `^\\./(${Object.keys(CORE_ROOMS).join('|')})(/|$)`, message: "core's ground imports none of its rooms (only index.ts gathers them)" },
    ],
  ),
  ...coreRules(['src/core/index.ts'], [{ group: ['../*'], message: 'src/core imports nothing above it.' }]),
  // Core's rooms stand on its ground (the files in src/core itself) and on the rooms below them: api on login and
  // rows; live on stream; stream on login.
  ...Object.entries(CORE_ROOMS).map(([room, below]) => {
    const others = Object.keys(CORE_ROOMS).filter((r) => r !== room && !below.includes(r));
    const patterns = [{ group: ['../../*'], message: 'src/core imports nothing above it.' }];
    if (others.length)
      patterns.push({
        regex: `^\\.\\./(${others.join('|')})(/|$)`,
        message: `core's ${room} room stands on the ground${below.length ? ` and on ${below.join(', ')}` : ''} only`,
      });
    return coreRules([`src/core/${room}/**/*.ts`], patterns)[0];
  }),
  // The direction of the layers: hosts (n8n, Node-RED, the command line) may import core and adapters; adapters
  // import core; nodes/ and credentials/ never import each other; no host imports another.
  // A later block replaces an earlier one's list for the same file, so each list is complete.
  ...layer(
    ['nodes/**/*.ts'],
    ['credentials', 'node-red', 'cli', 'simulator'],
    'n8n nodes import core, src/n8n and (the stream trigger) src/node, never the credential or another host',
    NETWORK,
  ),
  // The verified n8n package (the node, the polling trigger, the credential) takes nothing from Node.js adapters.
  ...layer(
    ['nodes/BmwCarData/**/*.ts', 'nodes/BmwCarDataTrigger/**/*.ts'],
    ['credentials', 'node-red', 'cli', 'simulator', 'node'],
    'the node and the polling trigger import core and src/n8n only (n8n verifies them)',
    NETWORK,
  ),
  ...layer(
    ['credentials/**/*.ts'],
    ['nodes', 'node-red', 'cli', 'simulator', 'node'],
    'the n8n credential imports core and src/n8n only, never a node',
    NETWORK,
  ),
  ...layer(['src/n8n/**/*.ts'], ['nodes', 'credentials', 'node-red', 'cli', 'simulator', 'node'], 'src/n8n holds n8n adapters over core', NETWORK),
  ...layer(
    ['src/node/**/*.ts'],
    ['nodes', 'credentials', 'n8n', 'node-red', 'cli', 'simulator'],
    "src/node holds Node.js adapters of core's ports, for every host",
  ),
  ...layer(['src/node-red/**/*.ts'], ['nodes', 'credentials', 'n8n', 'cli', 'simulator'], 'Node-RED code imports core and src/node only', NETWORK),
  ...layer(['src/cli/**/*.ts'], ['nodes', 'credentials', 'n8n', 'node-red', 'simulator'], 'the command line imports core and src/node only'),
  ...layer(['src/simulator/**/*.ts'], ['nodes', 'credentials', 'n8n', 'node-red', 'cli', 'node'], 'the simulator imports core only'),
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: globals.node },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // The tests are TypeScript that tsx runs without type checks: a name used but never imported is caught here (and
  // tsc -b test/tsconfig.json checks the types). Parsed JSON answers and loosely typed fixtures are `any`.
  {
    files: ['test/**/*.ts'],
    languageOptions: { globals: { ...globals.node, ...globals.mocha } },
    rules: { 'no-undef': 'error', '@typescript-eslint/no-explicit-any': 'off' },
  },
  // The Node-RED editor's shared script runs in the browser, next to Node-RED's editor (RED, jQuery).
  {
    files: ['src/node-red/resources/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, RED: 'readonly', $: 'readonly' } },
  },
);
