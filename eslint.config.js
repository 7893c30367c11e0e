// Lint rules for all TypeScript we write (generated code under src/gen/ is not ours to lint).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['src/gen/**', 'node_modules/**', 'dist/**', '.data/**', 'examples/python/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Unused bindings are type errors already (tsconfig noUnusedLocals/Parameters); `_` marks the deliberate ones.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Secrets and personal data must never reach the console: logging goes through pino (src/logger.ts).
      'no-console': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration in src/config.ts only.',
        },
      ],
    },
  },
  {
    // CommonJS configuration files of the tools.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly' } },
  },
  {
    // Tests, benchmarks and tools may read the environment and print.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts', 'src/config.ts', 'mikro-orm.config.ts'],
    rules: { 'no-restricted-syntax': 'off', 'no-console': 'off' },
  },
  {
    // Chai's property assertions (`expect(x).to.be.true`) are expressions by design.
    // Tests load proto packages dynamically, where `any` is the honest type, and read raw terminal output.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      // Terminal tests match escape sequences on purpose.
      'no-control-regex': 'off',
    },
  },
);
