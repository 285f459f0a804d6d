// Lint: typescript-eslint's recommended rules everywhere, plus the determinism bans in the deterministic
// parts of the tree. Each ban names its replacement. A line may opt out only with an eslint-disable comment
// that says why (the before-stop hook also greps for "det-ok").
import tseslint from 'typescript-eslint';

const determinismBans = {
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'Wall clock in deterministic code: use the injected Clock (ctx.clock / clock.nowUs()).' },
    { object: 'performance', property: 'now', message: 'Wall clock in deterministic code: use the injected Clock.' },
    { object: 'process', property: 'hrtime', message: 'Wall clock in deterministic code: use the injected Clock.' },
    { object: 'Math', property: 'random', message: 'Unseeded randomness: use the injected seeded Rng (rng.child(name)).' },
    { object: 'crypto', property: 'randomUUID', message: 'Unseeded ids: use the injected IdSource.' },
    { object: 'crypto', property: 'randomBytes', message: 'Unseeded randomness: use the injected seeded Rng.' },
  ],
  'no-restricted-globals': ['error',
    { name: 'setTimeout', message: 'Timers in deterministic code: schedule on the clock (clock.schedule / ctx.setTimer).' },
    { name: 'setInterval', message: 'Timers in deterministic code: schedule on the clock (clock.schedule / ctx.setTimer).' },
    { name: 'setImmediate', message: 'Timers in deterministic code: schedule on the clock.' },
    { name: 'Intl', message: 'Locale-dependent formatting: use the explicit formatters in engine/format.ts.' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date']", message: 'Wall clock or zone-dependent dates in deterministic code: use the injected Clock and engine/time.ts helpers.' },
    { selector: "CallExpression[callee.property.name='toLocaleString']", message: 'Locale-dependent formatting: use engine/format.ts.' },
    { selector: "CallExpression[callee.property.name='randomUUID']", message: 'Unseeded ids: use the injected IdSource.' },
    { selector: "ImportDeclaration[source.value=/^node:(fs|net|http|https|child_process|worker_threads|dgram|timers)/]", message: 'I/O in deterministic code: it belongs in adapters/, behind a port.' },
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
    files: ['engine/**/*.ts', 'strategies/**/*.ts', 'scenarios/**/*.ts', 'adapters/**/simulated-*.ts'],
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
