import path from 'node:path'
import { fileURLToPath } from 'node:url'
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

/**
 * Which room (top-level folder) may import which. Every import between rooms must be listed
 * here; a room missing from a row is a wrong-way door. test/unit/lint-rooms.test.ts shows
 * a refused import.
 */
export const ROOMS = {
  lib: [],
  consensus: ['lib'],
  protocol: ['consensus', 'lib'],
  net: ['lib'],
  node: ['consensus', 'protocol', 'net', 'lib'],
  service: ['consensus', 'protocol', 'net', 'lib'],
  client: ['consensus', 'protocol', 'lib'],
  cli: ['consensus', 'protocol', 'net', 'lib', 'node', 'service', 'client'],
  explorer: ['client', 'consensus', 'protocol', 'lib'],
  bench: ['consensus', 'protocol', 'net', 'lib', 'node', 'service', 'client', 'cli'],
  test: ['consensus', 'protocol', 'net', 'lib', 'node', 'service', 'client', 'cli', 'explorer', 'bench']
}

/** lib/ files the pure rooms (consensus, client) may use: no disk, sockets, timers or Node-only modules. */
export const PURE_LIB = ['lib/bytes.ts', 'lib/errors.ts', 'lib/bounded-map.ts']
const PURE_ROOMS = new Set(['consensus', 'client', 'protocol'])

const root = path.dirname(fileURLToPath(import.meta.url))
const roomOf = (file) => path.relative(root, file).split(path.sep)[0]

const roomImports = {
  meta: { type: 'problem', schema: [], messages: { wrongWay: '{{from}}/ may not import {{to}}/ (see ROOMS in eslint.config.js)', impure: '{{from}}/ is pure and may import only these lib/ files: {{allowed}}' } },
  create (context) {
    const from = roomOf(context.filename)
    if (!(from in ROOMS)) return {}
    const check = (node, spec) => {
      if (typeof spec !== 'string' || !spec.startsWith('.')) return
      const target = path.resolve(path.dirname(context.filename), spec).replace(/\.js$/, '.ts')
      const to = roomOf(target)
      if (to === from || !(to in ROOMS)) return
      if (!ROOMS[from].includes(to)) context.report({ node, messageId: 'wrongWay', data: { from, to } })
      else if (PURE_ROOMS.has(from) && to === 'lib' && !PURE_LIB.includes(path.relative(root, target))) {
        context.report({ node, messageId: 'impure', data: { from, allowed: PURE_LIB.join(', ') } })
      }
    }
    return {
      ImportDeclaration: (node) => check(node, node.source.value),
      ExportNamedDeclaration: (node) => check(node, node.source?.value),
      ExportAllDeclaration: (node) => check(node, node.source.value),
      ImportExpression: (node) => check(node, node.source.value)
    }
  }
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cluster/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { trustnet: { rules: { 'room-imports': roomImports } } },
    rules: {
      'trustnet/room-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    // The consensus core is pure: no disk, sockets, clocks or randomness.
    files: ['consensus/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [
          { group: ['level', 'libp2p', '@libp2p/*', 'node:fs', 'node:fs/*', 'node:net', 'node:timers', 'node:timers/*', 'fastify', 'pino'], message: 'consensus/ is pure: no disk, sockets or timers.' }
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
    // What users import runs in browsers too, and so do the lib/ files the pure rooms use: no Node built-ins.
    files: ['client/**/*.ts', 'explorer/**/*.ts', ...PURE_LIB],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*', 'level', 'libp2p', '@libp2p/*', 'fastify', 'pino'], message: 'client/ runs in browsers: no Node built-ins, disk or sockets.' }] }]
    }
  }
)
