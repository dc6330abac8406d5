/**
 * The config file loader: each kind of bad file (missing, not JSON, a field refused by its schema,
 * a value refused by a coded parser) is a ConfigError with a stable code naming the file, and the
 * field for schema failures; a caller may name its own codes; a parser's bug is not disguised.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CodedError } from '../../lib/errors.js'
import { checkJson, loadJsonFile } from '../../lib/json-file.js'

const Schema = z.strictObject({ port: z.number().int().max(65535), peers: z.array(z.string().startsWith('/')) })

async function refusal (p: Promise<unknown>): Promise<{ name: string, code: string, details: unknown }> {
  try {
    await p
  } catch (err) {
    const e = err as { name: string, code: string, details?: unknown }
    return { name: e.name, code: e.code, details: e.details }
  }
  throw new Error('expected a refusal')
}

describe('loadJsonFile', () => {
  let dir: string
  const write = async (name: string, text: string): Promise<string> => {
    const file = join(dir, name)
    await writeFile(file, text)
    return file
  }

  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'trustnet-json-')) })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('reads, parses and checks a file', async () => {
    const file = await write('ok.json', JSON.stringify({ port: 80, peers: ['/ip4/127.0.0.1'] }))
    expect(await loadJsonFile(file, Schema)).toEqual({ port: 80, peers: ['/ip4/127.0.0.1'] })
  })

  it('refuses a missing file, a file that is not JSON, and a bad field, naming the file and field', async () => {
    const missing = join(dir, 'missing.json')
    expect(await refusal(loadJsonFile(missing, Schema))).toEqual({ name: 'ConfigError', code: 'CONFIG_UNREADABLE', details: { file: missing } })
    const garbled = await write('garbled.json', '{ "port": ')
    expect(await refusal(loadJsonFile(garbled, Schema))).toEqual({ name: 'ConfigError', code: 'CONFIG_INVALID', details: { file: garbled } })
    const bad = await write('bad.json', JSON.stringify({ port: 80, peers: ['/ok', 'nope'] }))
    expect(await refusal(loadJsonFile(bad, Schema))).toEqual({ name: 'ConfigError', code: 'CONFIG_INVALID', details: { file: bad, path: 'peers.1' } })
  })

  it('uses the codes its caller names', async () => {
    const codes = { unreadable: 'GENESIS_INVALID', invalid: 'GENESIS_INVALID' }
    expect(await refusal(loadJsonFile(join(dir, 'none.json'), Schema, codes))).toMatchObject({ code: 'GENESIS_INVALID' })
    const garbled = await write('garbled.json', 'not json')
    expect(await refusal(loadJsonFile(garbled, Schema, codes))).toMatchObject({ code: 'GENESIS_INVALID' })
  })

  it('turns a parser\'s coded refusal into a ConfigError keeping its code, and passes a parser\'s bug through', async () => {
    const file = await write('value.json', '"x"')
    const refusing = (): never => { throw new CodedError('WRONG_CHAIN', 'not ours') }
    expect(await refusal(loadJsonFile(file, refusing))).toEqual({ name: 'ConfigError', code: 'CONFIG_INVALID', details: { file, reason: 'WRONG_CHAIN' } })
    const bug = new TypeError('oops')
    await expect(loadJsonFile(file, () => { throw bug })).rejects.toBe(bug)
  })
})

describe('checkJson', () => {
  it('checks a value already parsed, naming its source', () => {
    expect(checkJson({ port: 1, peers: [] }, Schema, 'config')).toEqual({ port: 1, peers: [] })
    let caught: unknown
    try { checkJson({ port: 70_000, peers: [] }, Schema, 'config') } catch (err) { caught = err }
    expect(caught).toMatchObject({ name: 'ConfigError', code: 'CONFIG_INVALID', details: { file: 'config', path: 'port' } })
  })
})
