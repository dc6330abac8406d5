import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cluster/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    // The consensus core is pure: it must not reach the I/O shell, the service, clocks or randomness.
    files: ['consensus/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['**/node/**', '../node/*', '**/service/**', '../service/*'], message: 'consensus/ must not import node/ or service/.' },
          { group: ['level', 'libp2p', '@libp2p/*', 'node:fs', 'node:net', 'node:timers', 'fastify'], message: 'consensus/ is pure: no disk, sockets or timers.' }
        ]
      }],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'consensus/ takes time as input.' },
        { object: 'Math', property: 'random', message: 'consensus/ takes randomness as input.' }
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'fetch']
    }
  },
  {
    files: ['service/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        // Gitignore semantics: a file under an excluded directory cannot be re-included, so exclude
        // node/'s direct children (and node/store's) and re-include what may be shared.
        patterns: [{ group: ['**/node/*', '!**/node/net', '!**/node/promise-shim.js', '!**/node/store', '**/node/store/*', '!**/node/store/id-filter.js'], message: 'service/ talks to nodes over the network: it may share node/net transport and the LevelDB id filter, nothing else.' }]
      }]
    }
  }
)
