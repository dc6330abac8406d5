import { describe, expect, it } from 'vitest'
import { buildCertificate, certificateOf, CertificateVerifier, verifyCertificate, type CertificateVerdict } from '../../consensus/certificate.js'
import { decode, encode } from '../../consensus/codec.js'
import { defaultEd25519, nobleEd25519 } from '../../consensus/ed25519.js'
import { TrustnetError } from '../../consensus/errors.js'
import { headerHash, recordId } from '../../consensus/ids.js'
import { CertificateSchema, type Certificate, type Commit, type InclusionProof } from '../../consensus/types.js'
import { makeCommittedBlock, makeNetwork, makeRecords, signCommit, testSeed, tipOf } from '../helpers/fixtures.js'
import { voteSignBytes } from '../../consensus/sign-bytes.js'

const RECORDS = 5
const reasonOf = (v: CertificateVerdict): string => v.valid ? 'valid' : v.reason

/** Decode a changed encoding and check it; a refusal either way is a TrustnetError or valid:false. */
function outcome (genesis: Parameters<typeof verifyCertificate>[0], bytes: Uint8Array): string {
  let cert: Certificate
  try {
    cert = decode(CertificateSchema, bytes)
  } catch (err) {
    if (err instanceof TrustnetError) return `decode:${err.code}`
    throw err
  }
  return reasonOf(verifyCertificate(genesis, cert))
}

for (const n of [1, 4, 7]) {
  describe(`certificates of a network of ${n}`, () => {
    const net = makeNetwork(n)
    const quorum = net.validators.quorum
    const { block, commit } = makeCommittedBlock(net, makeRecords(RECORDS))
    const certs = block.records.map((_, i) => buildCertificate(block, commit, i))

    it(`has quorum ${quorum} = 2f+1 with f = ${(n - 1) / 3}`, () => {
      expect(quorum).toBe(2 * ((n - 1) / 3) + 1)
      expect(commit.signatures).toHaveLength(quorum)
    })

    it('verify for every record, with either backend, and after a round trip through CBOR', () => {
      for (const cert of certs) {
        expect(verifyCertificate(net.genesis, cert)).toEqual({ valid: true })
        expect(verifyCertificate(net.genesis, cert, nobleEd25519)).toEqual({ valid: true })
        expect(verifyCertificate(net.genesis, decode(CertificateSchema, encode(cert)))).toEqual({ valid: true })
      }
    })

    it('verify with more than a quorum of signatures (all validators)', () => {
      const all = signCommit(net, block.header, [...Array(n).keys()])
      expect(verifyCertificate(net.genesis, buildCertificate(block, all, 0))).toEqual({ valid: true })
    })

    it('verify for a block at a later height', () => {
      const second = makeCommittedBlock(net, makeRecords(3, 100), { tip: tipOf(block) })
      expect(verifyCertificate(net.genesis, buildCertificate(second.block, second.commit, 2))).toEqual({ valid: true })
    })

    it('refuse every single-byte change of the canonical encoding (xor 0x01 on every byte, xor 0xff on every third)', () => {
      const accepted: string[] = []
      const seen = new Map<string, number>()
      let changes = 0
      for (const [r, cert] of certs.entries()) {
        const bytes = encode(cert)
        expect(outcome(net.genesis, bytes)).toBe('valid')
        for (let i = 0; i < bytes.length; i++) {
          for (const mask of i % 3 === 0 ? [0x01, 0xff] : [0x01]) {
            const changed = Uint8Array.from(bytes)
            changed[i] = (changed[i] as number) ^ mask
            changes++
            const result = outcome(net.genesis, changed)
            seen.set(result, (seen.get(result) ?? 0) + 1)
            if (result === 'valid') accepted.push(`record ${r} byte ${i} xor ${mask}`)
          }
        }
      }
      expect(accepted).toEqual([])
      expect(changes).toBeGreaterThan(RECORDS * 300)
      // both layers are exercised: the decoder, and the checks of well-formed but wrong certificates
      for (const reason of ['decode:MALFORMED', 'decode:NON_CANONICAL', 'decode:INVALID_FIELD', 'INVALID_PROOF', 'BAD_SIGNATURE']) {
        expect(seen.get(reason) ?? 0, reason).toBeGreaterThan(0)
      }
    })

    if (n > 1) {
      it('refuse a commit with fewer than a quorum of signatures (INVALID_COMMIT)', () => {
        const short = signCommit(net, block.header, [...Array(quorum - 1).keys()])
        expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, short, 0)))).toBe('INVALID_COMMIT')
        // a quorum minus one of the validators at the top end, too
        const top = signCommit(net, block.header, [...Array(quorum - 1).keys()].map(i => n - quorum + 1 + i))
        expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, top, 0)))).toBe('INVALID_COMMIT')
      })

      it('refuse a duplicated signer even when the count reaches quorum (INVALID_COMMIT)', () => {
        const signers = [...Array(quorum - 1).keys()]
        const dup = signCommit(net, block.header, [...signers, signers[signers.length - 1] as number])
        expect(dup.signatures).toHaveLength(quorum)
        expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, dup, 0)))).toBe('INVALID_COMMIT')
      })

      it('refuse signers out of order (INVALID_COMMIT)', () => {
        const signers = [...Array(quorum).keys()]
        const swapped = [signers[1], signers[0], ...signers.slice(2)] as number[]
        const unordered = signCommit(net, block.header, swapped)
        expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, unordered, 0)))).toBe('INVALID_COMMIT')
      })
    }

    it('refuse an empty commit (INVALID_FIELD: the schema wants at least one signature)', () => {
      const empty: Commit = { ...commit, signatures: [] }
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, empty, 0)))).toBe('INVALID_FIELD')
    })

    it('refuse a signature from a validator not in the genesis (UNKNOWN_VALIDATOR), or from an outsider in a member\'s place (BAD_SIGNATURE)', () => {
      const outsider = testSeed('outsider')
      const message = voteSignBytes(net.genesis.chainId, 'precommit', commit.height, commit.round, commit.blockHash)
      const outsiderSig = { validator: n, signature: defaultEd25519.sign(outsider, message) }
      const unknown: Commit = { ...commit, signatures: [...commit.signatures.slice(1), outsiderSig] }
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, unknown, 0)))).toBe('UNKNOWN_VALIDATOR')
      const impostor: Commit = { ...commit, signatures: [{ validator: 0, signature: defaultEd25519.sign(outsider, message) }, ...commit.signatures.slice(1)] }
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, impostor, 0)))).toBe('BAD_SIGNATURE')
    })

    it('refuse a bad signature even beyond the quorum (BAD_SIGNATURE)', () => {
      if (n === 1) return
      const all = signCommit(net, block.header, [...Array(n).keys()])
      const last = all.signatures[n - 1] as { validator: number, signature: Uint8Array }
      const signature = Uint8Array.from(last.signature)
      signature[0] = (signature[0] as number) ^ 0x80
      const broken: Commit = { ...all, signatures: [...all.signatures.slice(0, -1), { validator: last.validator, signature }] }
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, broken, 0)))).toBe('BAD_SIGNATURE')
    })

    it('refuse a commit for another block (INVALID_COMMIT), and signatures moved onto this block (BAD_SIGNATURE)', () => {
      const other = makeCommittedBlock(net, makeRecords(RECORDS, 50))
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, other.commit, 0)))).toBe('INVALID_COMMIT')
      const moved: Commit = { ...other.commit, blockHash: headerHash(block.header) }
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(block, moved, 0)))).toBe('BAD_SIGNATURE')
    })

    it('refuse a commit of another height or round (INVALID_COMMIT, BAD_SIGNATURE)', () => {
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: { ...commit, height: 2 } }))).toBe('INVALID_COMMIT')
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: { ...commit, round: 1 } }))).toBe('BAD_SIGNATURE')
      // precommits really signed for round 1 do make a valid commit
      expect(verifyCertificate(net.genesis, buildCertificate(block, signCommit(net, block.header, [...Array(quorum).keys()], 1), 0))).toEqual({ valid: true })
    })

    it('refuse a certificate checked against another chain\'s genesis (WRONG_CHAIN)', () => {
      const other = makeNetwork(n, { chainId: 'another-chain' })
      expect(reasonOf(verifyCertificate(other.genesis, certs[0]))).toBe('WRONG_CHAIN')
      // same validators, same chain id in the certificate but a header of another chain id
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], header: { ...block.header, chainId: 'another-chain' } }))).toBe('WRONG_CHAIN')
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], chainId: 'another-chain' }))).toBe('WRONG_CHAIN')
    })

    it('refuse a certificate checked against a genesis of the same chain id but other validators (BAD_SIGNATURE)', () => {
      const impostors = makeNetwork(n, { keyLabel: 'impostor' })
      expect(reasonOf(verifyCertificate(impostors.genesis, certs[0]))).toBe('BAD_SIGNATURE')
    })

    it('refuse a proof for another record, or another record under this proof (INVALID_PROOF)', () => {
      for (let i = 0; i < RECORDS; i++) {
        const j = (i + 1) % RECORDS
        expect(reasonOf(verifyCertificate(net.genesis, { ...certs[i], proof: (certs[j] as Certificate).proof }))).toBe('INVALID_PROOF')
        expect(reasonOf(verifyCertificate(net.genesis, { ...certs[i], record: block.records[j] }))).toBe('INVALID_PROOF')
      }
      const foreign = makeRecords(1, 999)[0]
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], record: foreign }))).toBe('INVALID_PROOF')
    })

    it('refuse a header whose record count exceeds what the network allows (INVALID_BLOCK)', () => {
      const small = makeNetwork(n, { params: { maxBlockRecords: RECORDS - 1 } })
      const big = makeCommittedBlock(small, makeRecords(RECORDS))
      expect(reasonOf(verifyCertificate(small.genesis, buildCertificate(big.block, big.commit, 0)))).toBe('INVALID_BLOCK')
    })

    it('refuse a block whose proposer is not a validator (INVALID_BLOCK)', () => {
      const stray = makeCommittedBlock(net, makeRecords(2), { proposer: n })
      expect(reasonOf(verifyCertificate(net.genesis, buildCertificate(stray.block, stray.commit, 0)))).toBe('INVALID_BLOCK')
    })
  })
}

describe('verifyCertificate input handling', () => {
  const net = makeNetwork(4)
  const { block, commit } = makeCommittedBlock(net, makeRecords(2))
  const cert = buildCertificate(block, commit, 1)

  it('refuses values that are not certificates with INVALID_FIELD, without throwing', () => {
    for (const bad of [null, undefined, 42, 'certificate', [], {}, { ...cert, v: 2 }, { ...cert, extra: true }]) {
      expect(reasonOf(verifyCertificate(net.genesis, bad))).toBe('INVALID_FIELD')
    }
  })

  it('refuses an invalid genesis with INVALID_FIELD', () => {
    expect(reasonOf(verifyCertificate({ ...net.genesis, validators: [] }, cert))).toBe('INVALID_FIELD')
  })

  it('refuses a genesis with repeated validator keys (INVALID_GENESIS)', () => {
    const first = net.genesis.validators[0] as { name: string, publicKey: Uint8Array }
    const repeated = { ...net.genesis, validators: [first, { ...first, name: 'copy' }, ...net.genesis.validators.slice(2)] }
    expect(reasonOf(verifyCertificate(repeated, cert))).toBe('INVALID_GENESIS')
  })

  it('buildCertificate refuses a record index outside the block', () => {
    expect(() => buildCertificate(block, commit, 2)).toThrow(RangeError)
  })

  it('does not mutate its inputs', () => {
    const before = encode(cert)
    const genesisBefore = encode(net.genesis)
    verifyCertificate(net.genesis, cert)
    expect(encode(cert)).toEqual(before)
    expect(encode(net.genesis)).toEqual(genesisBefore)
  })
})

describe('CertificateVerifier (commit checked once per block)', () => {
  it('accepts every record of a block after checking its commit once, and re-checks any changed commit or header', () => {
    const net = makeNetwork(4)
    const { block, commit } = makeCommittedBlock(net, makeRecords(8))
    const verifier = new CertificateVerifier(net.genesis)
    for (let i = 0; i < 8; i++) expect(verifier.verify(buildCertificate(block, commit, i))).toEqual({ valid: true })

    const cert = buildCertificate(block, commit, 3)
    const signature = Uint8Array.from(cert.commit.signatures[1]?.signature ?? [])
    signature[5] = (signature[5] as number) ^ 1
    const badSignature = { ...cert, commit: { ...cert.commit, signatures: cert.commit.signatures.map((s, i) => i === 1 ? { ...s, signature } : s) } }
    expect(verifier.verify(badSignature)).toMatchObject({ valid: false, reason: 'BAD_SIGNATURE' })
    const otherTime = { ...cert, header: { ...cert.header, time: cert.header.time + 1 } }
    expect(verifier.verify(otherTime)).toMatchObject({ valid: false, reason: 'INVALID_COMMIT' })
    // The good one is still good.
    expect(verifier.verify(cert)).toEqual({ valid: true })
  })
})

describe('CertificateVerifier.blockProofs (a whole block proven at once)', () => {
  const net = makeNetwork(4)
  const { block, commit } = makeCommittedBlock(net, makeRecords(13))
  const ids = block.records.map(recordId)

  it('gives every record a proof whose certificate verifies on its own', () => {
    const proofs = new CertificateVerifier(net.genesis).blockProofs(block.header, commit, ids)
    expect(proofs).toHaveLength(13)
    block.records.forEach((record, i) => {
      const cert = certificateOf(record, { header: block.header, commit }, proofs[i] as InclusionProof)
      expect(verifyCertificate(net.genesis, cert)).toEqual({ valid: true })
      expect(cert).toEqual(buildCertificate(block, commit, i))
    })
  })

  const refusal = (f: () => unknown): string | undefined => {
    try { f() } catch (err) { return err instanceof TrustnetError ? err.code : 'not typed' }
    return undefined
  }

  it('refuses ids that do not build the header, with a typed error', () => {
    const verifier = new CertificateVerifier(net.genesis)
    const swapped = [ids[1], ids[0], ...ids.slice(2)] as Uint8Array[]
    const changed = ids.map((id, i) => i === 7 ? Uint8Array.from(id, (b, k) => k === 0 ? b ^ 1 : b) : id)
    expect(refusal(() => verifier.blockProofs(block.header, commit, swapped))).toBe('INVALID_PROOF')
    expect(refusal(() => verifier.blockProofs(block.header, commit, changed))).toBe('INVALID_PROOF')
    expect(refusal(() => verifier.blockProofs(block.header, commit, ids.slice(1)))).toBe('INVALID_PROOF')
    expect(refusal(() => verifier.blockProofs(block.header, commit, [...ids, ids[0] as Uint8Array]))).toBe('INVALID_PROOF')
  })

  it('refuses a commit without a quorum of valid signatures, and a header of another chain', () => {
    const verifier = new CertificateVerifier(net.genesis)
    const short = { ...commit, signatures: commit.signatures.slice(0, 2) }
    expect(refusal(() => verifier.blockProofs(block.header, short, ids))).toBeDefined()
    const forged = { ...commit, signatures: commit.signatures.map((s, i) => i === 0 ? { ...s, signature: new Uint8Array(64) } : s) }
    expect(refusal(() => verifier.blockProofs(block.header, forged, ids))).toBe('BAD_SIGNATURE')
    expect(refusal(() => verifier.blockProofs({ ...block.header, chainId: 'other' }, commit, ids))).toBe('WRONG_CHAIN')
    // Nothing above poisoned the cache: the real block still passes.
    expect(verifier.blockProofs(block.header, commit, ids)).toHaveLength(13)
  })
})
