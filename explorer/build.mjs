/**
 * Builds the explorer page into dist/explorer: its TypeScript bundled by esbuild into one
 * minified browser script (explorer.js), beside the page and its style as written. Run by
 * `npm run build` and `npm run build:all`; a validator serves the folder (node/http-api.ts).
 */
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { build } from 'esbuild'

/**
 * zod's messages in forty languages come along with its namespace object; the page shows the
 * verifier's own codes and messages, so every locale but the default English is left out.
 */
const withoutZodLocales = {
  name: 'without-zod-locales',
  setup (b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, args => /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined)
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {}', loader: 'js' }))
  }
}

const src = import.meta.dirname
const out = join(src, '..', 'dist', 'explorer')

await mkdir(out, { recursive: true })
await build({
  entryPoints: [join(src, 'main.ts')],
  outfile: join(out, 'explorer.js'),
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['es2022', 'chrome100', 'firefox100', 'safari16'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [withoutZodLocales]
})
await Promise.all(['index.html', 'explorer.css'].map(async file => { await copyFile(join(src, file), join(out, file)) }))
