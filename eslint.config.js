// Lint: typescript-eslint's recommended rules everywhere, plus the determinism bans in the deterministic
// parts of the tree. Each ban names its replacement. A line may opt out only with an eslint-disable comment
// that says why (the before-stop hook also greps for "det-ok").
import tseslint from 'typescript-eslint';

const CLOCK = 'Wall clock in deterministic code: use the injected Clock (ctx.clock / clock.nowUs()).';
const TIMERS = 'Timers in deterministic code: schedule on the clock (clock.schedule / ctx.setTimer).';
const RANDOM = 'Unseeded randomness: use the injected seeded Rng (rng.child(name)).';
const IDS = 'Unseeded ids: use the injected IdSource.';
const LOCALE = 'Locale-dependent formatting or ordering: format with toFixed and explicit grouping (as cli/format-summary.ts does) or engine/core/time.ts (formatTimeUs, formatDays), and compare strings by code unit (a < b).';
const IO = 'I/O in deterministic code: it belongs in adapters/, behind a port.';

// Reached directly, or through globalThis / global (globalThis.setTimeout is the same timer).
const viaGlobal = (property, message) => ['globalThis', 'global'].map((object) => ({ object, property, message }));

const determinismBans = {
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: CLOCK },
    { object: 'performance', property: 'now', message: CLOCK },
    { object: 'process', property: 'hrtime', message: CLOCK },
    { object: 'Math', property: 'random', message: RANDOM },
    { object: 'crypto', property: 'randomUUID', message: IDS },
    { object: 'crypto', property: 'randomBytes', message: RANDOM },
    { object: 'crypto', property: 'randomInt', message: RANDOM },
    { object: 'crypto', property: 'getRandomValues', message: RANDOM },
    ...viaGlobal('setTimeout', TIMERS), ...viaGlobal('setInterval', TIMERS), ...viaGlobal('setImmediate', TIMERS),
    ...viaGlobal('performance', CLOCK), ...viaGlobal('crypto', RANDOM), ...viaGlobal('Intl', LOCALE),
  ],
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: TIMERS },
    { name: 'setInterval', message: TIMERS },
    { name: 'setImmediate', message: TIMERS },
    { name: 'Intl', message: LOCALE },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date']", message: 'Wall clock or zone-dependent dates in deterministic code: use the injected Clock and engine/core/time.ts (parseDate, formatTimeUs, daysFromCivil).' },
    { selector: "CallExpression[callee.name='Date']", message: 'Wall clock in deterministic code (Date() is the current time as text): use the injected Clock and engine/core/time.ts (parseDate, formatTimeUs, daysFromCivil).' },
    // globalThis.Date.now(), globalThis.Math.random(): the globals reached through globalThis.
    { selector: "MemberExpression[object.type='MemberExpression'][object.property.name='Date'][property.name='now']", message: CLOCK },
    { selector: "MemberExpression[object.type='MemberExpression'][object.property.name='Math'][property.name='random']", message: RANDOM },
    { selector: "CallExpression[callee.property.name=/^(toLocaleString|toLocaleDateString|toLocaleTimeString|toLocaleUpperCase|toLocaleLowerCase|localeCompare)$/]", message: LOCALE },
    { selector: "CallExpression[callee.property.name='randomUUID']", message: IDS },
    // Imported by name: import { randomUUID } from 'node:crypto' (hashing, createHash, stays allowed).
    { selector: "ImportSpecifier[imported.name='randomUUID']", message: IDS },
    { selector: "ImportSpecifier[imported.name=/^(randomBytes|randomInt|randomFillSync|randomFill|getRandomValues|webcrypto)$/]", message: RANDOM },
    // With or without the node: prefix, and their subpaths (fs/promises, timers/promises).
    { selector: "ImportDeclaration[source.value=/^(node:)?(fs|net|http|https|http2|child_process|worker_threads|cluster|dgram|dns|tls|readline)(\\/.*)?$/]", message: IO },
    { selector: "ImportDeclaration[source.value=/^(node:)?timers(\\/.*)?$/]", message: TIMERS },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'out/**', 'runs/**', 'data/**', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    // The deterministic parts: the engine, strategies, scenarios, the simulated adapters, and the production modules
    // that a scenario's simulated mode runs as they are (the paper broker, the fresh-start rules, the Alpaca pager).
    files: ['engine/**/*.ts', 'strategies/**/*.ts', 'scenarios/**/*.ts', 'adapters/**/simulated-*.ts',
      'adapters/runtime/paper-broker.ts', 'adapters/runtime/fresh-start.ts', 'adapters/alpaca/order-pages.ts'],
    ignores: ['**/*.test.ts'],
    rules: determinismBans,
  },
  {
    // The engine never imports adapters, the CLI or node I/O: arrows point inward.
    files: ['engine/**/*.ts', 'strategies/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [
        { group: ['**/adapters/**', '**/cli/**', '**/scenarios/**'], message: 'engine/ and strategies/ must not import outward (adapters, cli, scenarios).' },
      ] }],
    },
  },
);
