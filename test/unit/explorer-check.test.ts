/**
 * The explorer's "check a file", run in Node (WebCrypto is there too): the file's SHA-256 by
 * WebCrypto equals the client library's; a file with its certificate is valid and says what the
 * certificate certifies (names of the signers from the genesis); a changed file is DATA_MISMATCH;
 * a forged or unreadable certificate gets the verifier's own refusal code; and the answer does
 * not depend on WebCrypto being there (a page served over plain HTTP to another host has none).
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { buildCertificate } from '../../consensus/certificate.js'
import { entryOf } from '../../consensus/entries.js'
import { sha256 } from '../../consensus/hash.js'
import { toHex } from '../../consensus/ids.js'
import { toJsonText } from '../../consensus/json.js'
import type { LedgerRecord } from '../../consensus/types.js'
import { checkFile, sha256Hex } from '../../explorer/check-file.js'
import { makeCommittedBlock, makeNetwork, makeSubmission, testSalt } from '../helpers/fixtures.js'

const utf8 = new TextEncoder()
const net = makeNetwork(4)
const data = utf8.encode('the signed lease, page 1 of 1\n')
const record: LedgerRecord = { v: 2, dataHash: sha256(data), meta: { name: 'lease.txt', size: data.length, contentType: 'text/plain' }, service: 'service-test' }
const salt = testSalt(7)
const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, [entryOf(record, salt)])], { signers: [0, 2, 3] })
const certificate = toJsonText(buildCertificate(block, commit, 0, record, salt))

describe('explorer: check a file', () => {
  afterEach(() => { vi.unstubAllGlobals() })

  it('hashes with WebCrypto to the same SHA-256 as the client library', async () => {
    expect(globalThis.crypto?.subtle).toBeDefined()
    expect(await sha256Hex(data)).toBe(toHex(sha256(data)))
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  })

  it('finds the file and its certificate valid, and says what it certifies', async () => {
    expect(await checkFile(net.genesis, data, certificate)).toEqual({
      valid: true,
      fileHash: toHex(sha256(data)),
      dataHash: toHex(sha256(data)),
      name: 'lease.txt',
      size: data.length,
      contentType: 'text/plain',
      service: 'service-test',
      entry: toHex(entryOf(record, salt)),
      height: 1,
      time: block.header.time,
      signers: [0, 2, 3].map(i => net.genesis.validators[i]!.name)
    })
  })

  it('finds a changed file invalid (DATA_MISMATCH), with the changed file\'s hash', async () => {
    const changed = Uint8Array.from(data, (b, i) => i === 4 ? b ^ 0x20 : b)
    expect(await checkFile(net.genesis, changed, certificate)).toMatchObject({ valid: false, reason: 'DATA_MISMATCH', fileHash: toHex(sha256(changed)) })
  })

  it('refuses a certificate that is forged or not one with the verifier\'s code', async () => {
    const forged = JSON.parse(certificate) as { record: { meta: { name: string } } }
    forged.record.meta.name = 'lease-v2.txt'
    expect(await checkFile(net.genesis, data, JSON.stringify(forged))).toMatchObject({ valid: false, reason: 'INVALID_PROOF' })
    expect(await checkFile(net.genesis, data, '{"v": 2,')).toMatchObject({ valid: false, reason: 'MALFORMED' })
    expect(await checkFile(net.genesis, data, '{"v": 2}')).toMatchObject({ valid: false, reason: 'INVALID_FIELD' })
    // Another network's genesis does not know these validators' keys.
    expect(await checkFile(makeNetwork(4, { chainId: 'another-chain' }).genesis, data, certificate)).toMatchObject({ valid: false })
  })

  it('reaches the same verdicts without WebCrypto', async () => {
    vi.stubGlobal('crypto', undefined)
    expect(globalThis.crypto).toBeUndefined()
    expect(await checkFile(net.genesis, data, certificate)).toMatchObject({ valid: true, fileHash: toHex(sha256(data)) })
    expect(await checkFile(net.genesis, utf8.encode('another file'), certificate)).toMatchObject({ valid: false, reason: 'DATA_MISMATCH' })
  })
})
