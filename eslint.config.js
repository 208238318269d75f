// @ts-check
// Lint configuration. The rule that matters most is the sans-IO rule: the core (src/wire,
// src/time, src/ip, src/tcp) is handed time, randomness and frames; it never reaches for them.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

/** Globals the core must not touch: clocks, timers, randomness, Node. */
const SANS_IO_GLOBALS = [
  'Date', 'performance', 'setTimeout', 'setInterval', 'setImmediate', 'clearTimeout',
  'clearInterval', 'clearImmediate', 'queueMicrotask', 'process', 'Buffer', 'crypto', 'require',
].map((name) => ({ name, message: `sans-IO: src/{wire,time,ip,tcp} take time, timers and randomness from the caller; '${name}' is not allowed here.` }));

const NODE_MODULES = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export const sansIoRules = {
  'no-restricted-globals': ['error', ...SANS_IO_GLOBALS],
  'no-restricted-properties': ['error',
    { object: 'Math', property: 'random', message: 'sans-IO: randomness is injected (see Stack options).' },
    { object: 'Date', property: 'now', message: 'sans-IO: time is passed in as an Instant.' },
    { object: 'globalThis', message: 'sans-IO: no ambient globals in the core.' },
  ],
  '@typescript-eslint/no-restricted-imports': ['error', {
    paths: NODE_MODULES.map((name) => ({ name, message: 'sans-IO: the core never imports Node built-ins.' })),
    patterns: [
      // Type-only imports of contracts (the Port type in link/link.ts) are allowed: they vanish at run time.
      { group: ['**/api/**', '**/link/**', '**/sim/**', '**/cli/**', '**/web/**'], allowTypeImports: true, message: 'layering: the core imports only downward (wire, time, ip, tcp, util, trace/events).' },
    ],
  }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'build/**', 'web/dist/**', 'native/build/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', URL: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setImmediate: 'readonly', queueMicrotask: 'readonly', performance: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/wire/**/*.ts', 'src/time/**/*.ts', 'src/ip/**/*.ts', 'src/tcp/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: sansIoRules,
  },
);
