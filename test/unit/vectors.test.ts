import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Command } from 'commander'
import { describe, expect, it, vi } from 'vitest'
import { registerVerifyCertificate } from '../../cli/commands/verify-certificate.js'
import { CertificateVerifier, verifyCertificate, type CertificateVerdict } from '../../consensus/certificate.js'
import { nobleEd25519 } from '../../consensus/ed25519.js'
import { TrustnetError } from '../../consensus/errors.js'
import { certificateFromJson, genesisFromJson } from '../../consensus/json.js'
import { generateVectors, workedExample, type VectorCase } from '../vectors/generate.js'

const DIR = join(import.meta.dirname, '..', 'vectors')
const read = async (path: string): Promise<string> => await readFile(join(DIR, path), 'utf8')

const genesis = genesisFromJson(JSON.parse(await read('genesis.json')))
const manifest = JSON.parse(await read('manifest.json')) as VectorCase[]

/** A vector's verdict: read from its JSON form, then verified; a refusal while reading is a verdict too. */
async function verdictOf (file: string, verify: (cert: unknown) => CertificateVerdict = c => verifyCertificate(genesis, c)): Promise<CertificateVerdict> {
  const json: unknown = JSON.parse(await read(file))
  try {
    return verify(certificateFromJson(json))
  } catch (err) {
    if (err instanceof TrustnetError) return { valid: false, reason: err.code, message: err.message }
    throw err
  }
}

describe('certificate v3 test vectors', () => {
  it('are the files the generator writes, byte for byte', async () => {
    // A difference means the format or the fixtures changed: the specification's vectors must not.
    for (const f of generateVectors()) expect(await read(f.path), `${f.path} is not what test/vectors/generate.ts writes`).toBe(f.text)
  })

  it('list every file of valid/ and invalid/ in the manifest, and only those', async () => {
    const onDisk = [
      ...(await readdir(join(DIR, 'valid'))).map(f => `valid/${f}`),
      ...(await readdir(join(DIR, 'invalid'))).map(f => `invalid/${f}`)
    ].sort()
    expect(manifest.map(c => c.file).sort()).toEqual(onDisk)
    expect(new Set(manifest.map(c => c.file)).size).toBe(manifest.length)
  })

  it('cover what the specification requires', () => {
    const files = new Set(manifest.map(c => c.file))
    for (const name of ['single-entry', 'deep-proof', 'two-services']) expect(files).toContain(`valid/${name}.json`)
    for (const name of [
      'tampered-data-hash', 'tampered-name', 'tampered-salt', 'unregistered-service', 'service-swapped', 'wrong-proof-index',
      'truncated-siblings', 'header-time-changed', 'below-quorum', 'duplicate-signer', 'non-validator-key', 'wrong-chain-id', 'copied-genesis',
      'header-other-genesis', 'v1-certificate', 'v2-certificate'
    ]) expect(files).toContain(`invalid/${name}.json`)
    for (const c of manifest) {
      expect(c.reason.length, c.file).toBeGreaterThan(10)
      expect(c.valid, c.file).toBe(c.file.startsWith('valid/'))
      expect(c.valid ? c.certifies : c.code, c.file).toBeDefined()
    }
  })

  for (const c of manifest) {
    it(`${c.file}: ${c.valid ? 'valid' : c.code} (${c.reason})`, async () => {
      const verdict = await verdictOf(c.file)
      if (c.valid) {
        expect(verdict).toEqual({ valid: true, ...c.certifies })
        // the portable backend agrees, and so does a verifier that has already seen the commit
        expect(await verdictOf(c.file, cert => verifyCertificate(genesis, cert, { ed: nobleEd25519 }))).toEqual(verdict)
      } else {
        expect(verdict).toMatchObject({ valid: false, reason: c.code })
      }
    })
  }

  it('give the same verdicts from one verifier that remembers commits, in any order', async () => {
    const verifier = new CertificateVerifier(genesis)
    for (const c of [...manifest, ...manifest].reverse()) {
      const verdict = await verdictOf(c.file, cert => verifier.verify(cert))
      expect(verdict.valid ? 'valid' : verdict.reason, c.file).toBe(c.valid ? 'valid' : c.code)
    }
  })
})

/** Run `trustnet verify-certificate FILE --genesis genesis.json` in this process: its one output line and exit code. */
async function command (file: string): Promise<{ out: Record<string, unknown>, exitCode: number | undefined }> {
  const program = new Command().exitOverride()
  registerVerifyCertificate(program)
  const lines: string[] = []
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true })
  const before = process.exitCode
  try {
    await program.parseAsync(['verify-certificate', join(DIR, file), '--genesis', join(DIR, 'genesis.json')], { from: 'user' })
    expect(lines).toHaveLength(1)
    return { out: JSON.parse(lines[0] as string) as Record<string, unknown>, exitCode: process.exitCode as number | undefined }
  } finally {
    write.mockRestore()
    process.exitCode = before
  }
}

describe('trustnet verify-certificate on the vectors', () => {
  it('says what a valid certificate certifies, and exits 0', async () => {
    const c = manifest.find(v => v.file === 'valid/two-services.json') as VectorCase
    const cert = JSON.parse(await read(c.file)) as { record: { dataHash: string, meta: unknown } }
    expect(await command(c.file)).toEqual({ out: { valid: true, ...c.certifies, record: { dataHash: cert.record.dataHash, meta: cert.record.meta } }, exitCode: 0 })
  })

  it('gives every vector its verdict: exit 0 when valid, 1 with the code when not', async () => {
    for (const c of manifest) {
      const { out, exitCode } = await command(c.file)
      expect(exitCode, c.file).toBe(c.valid ? 0 : 1)
      expect(out, c.file).toMatchObject(c.valid ? { valid: true, ...c.certifies } : { valid: false, reason: c.code })
    }
  })
})

describe('docs/certificate.md', () => {
  it('shows every intermediate value of the worked example, and the example is right', async () => {
    const doc = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'certificate.md'), 'utf8')
    const steps = workedExample()
    const flat = doc.replace(/\s+/g, '')
    for (const [label, value] of steps) expect(flat, label).toContain(value)
    // the last Merkle node is the header's root
    const nodes = steps.filter(([label]) => label.startsWith('node '))
    expect(nodes.at(-1)?.[1]).toBe(steps.find(([label]) => label === 'entries root')?.[1])
  })

  it('lists every vector with its code', async () => {
    const doc = await readFile(join(import.meta.dirname, '..', '..', 'docs', 'certificate.md'), 'utf8')
    for (const c of manifest) expect(doc, c.file).toContain(c.valid ? c.file : `${c.file}\` | \`${c.code}`)
  })
})
