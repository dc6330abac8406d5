/**
 * The client library bundles for the browser as it is: esbuild (platform browser, ESM, nothing
 * marked external) resolves every import, none of them a Node built-in, and the bundle, loaded
 * in a fresh Node with `process` hidden while it evaluates (so it takes the path a browser
 * takes: @noble for hashing and signatures), checks the certificate vectors as the manifest says.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { VectorCase } from '../vectors/generate.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')
const VECTORS = join(ROOT, 'test', 'vectors')

/** Loads the bundle with no `process` global, then verifies every vector of the manifest with it and prints the verdicts. */
const RUNNER = `
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
const [bundle, vectors] = process.argv.slice(1)
const saved = globalThis.process
delete globalThis.process
const client = await import(pathToFileURL(bundle).href)
globalThis.process = saved
const genesis = readFileSync(join(vectors, 'genesis.json'), 'utf8')
const manifest = JSON.parse(readFileSync(join(vectors, 'manifest.json'), 'utf8'))
const verdicts = manifest.map(c => client.verifyCertificate(genesis, readFileSync(join(vectors, c.file), 'utf8')))
console.log(JSON.stringify({ verdicts }))
`

describe('client library browser bundle', () => {
  let dir: string
  let outfile: string
  let imports: Array<{ path: string, external?: boolean }>
  let inputs: string[]

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-bundle-'))
    outfile = join(dir, 'client.mjs')
    // Fails (throws) on any import it cannot resolve for the browser, node:crypto included.
    const result = await build({
      entryPoints: [join(ROOT, 'client', 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      outfile,
      metafile: true,
      logLevel: 'silent'
    })
    expect(result.errors).toEqual([])
    imports = Object.values(result.metafile.outputs).flatMap(o => o.imports)
    inputs = Object.keys(result.metafile.inputs)
  })

  afterAll(async () => { await rm(dir, { recursive: true, force: true }) })

  it('resolves every import into the bundle, none of them a Node built-in', () => {
    expect(imports).toEqual([])
    const builtins = new Set(builtinModules.flatMap(m => [m, `node:${m}`]))
    expect(inputs.filter(i => builtins.has(i) || i.startsWith('node:'))).toEqual([])
    // What the verifier needs is in it, from the sources.
    expect(inputs).toEqual(expect.arrayContaining(['client/index.ts', 'consensus/certificate.ts', 'consensus/hash.ts', 'consensus/ed25519.ts']))
  })

  it('verifies the certificate vectors when run without Node globals', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', RUNNER, outfile, VECTORS], { cwd: ROOT, timeout: 30_000 })
    const { verdicts } = JSON.parse(stdout) as { verdicts: Array<{ valid: boolean, reason?: string }> }
    const { default: manifest } = await import('../vectors/manifest.json', { with: { type: 'json' } }) as { default: VectorCase[] }
    expect(verdicts).toHaveLength(manifest.length)
    for (const [i, c] of manifest.entries()) {
      if (c.valid) expect(verdicts[i], c.file).toMatchObject({ valid: true, ...c.certifies })
      else expect(verdicts[i], c.file).toEqual({ valid: false, reason: c.code, message: expect.any(String) })
    }
    expect(manifest.some(c => c.valid) && manifest.some(c => !c.valid)).toBe(true)
  })
})
