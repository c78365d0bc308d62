import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

// The stream's MQTT connection still sits in core until it moves to src/node.
const CORE_STREAM_CONNECTION = ['src/core/stream.ts'];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.sandbox/**', 'test-output/**'] },
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
  {
    files: ['src/core/**/*.ts'],
    ignores: CORE_STREAM_CONNECTION,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['fs', 'path', 'os', 'net', 'tls', 'http', 'https', 'child_process', 'util', 'axios', 'mqtt', 'aedes', 'n8n-workflow'].map((name) => ({
            name,
            message: 'src/core is pure: Node.js and host modules belong in src/node or a host folder, passed in through a port.',
          })),
          patterns: [
            { group: ['node:*'], message: 'src/core is pure: Node.js modules belong in src/node.' },
            { group: ['../*'], message: 'src/core imports nothing above it.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'clearImmediate', 'process', 'global', 'globalThis', '__dirname', '__filename', 'require', 'console'].map((name) => ({
          name,
          message: 'src/core has no timers, process or console of its own: take a port (sleep, clock, timers, warn) from the host.',
        })),
      ],
      'no-new-func': 'error',
      'no-eval': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node, ...globals.mocha } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
