import { describe, expect, it } from 'vitest'
import { buildCertificate, certificateOf, CertificateVerifier, verifyCertificate, type CertificateVerdict } from '../../consensus/certificate.js'
import { decode, encode } from '../../consensus/codec.js'
import { defaultEd25519, nobleEd25519 } from '../../consensus/ed25519.js'
import { entryOf, leafBytes, leavesOf } from '../../consensus/entries.js'
import { TrustnetError } from '../../consensus/errors.js'
import { genesisFingerprint } from '../../consensus/genesis-fingerprint.js'
import { genesisHash, headerHash, toHex } from '../../consensus/ids.js'
import { genesisFromJson, toJsonText } from '../../consensus/json.js'
import { voteSignBytes } from '../../consensus/sign-bytes.js'
import { CertificateSchema, type Certificate, type Commit, type Genesis, type InclusionProof, type LedgerRecord } from '../../consensus/types.js'
import {
  makeCommittedBlock, makeEntries, makeEntry, makeNetwork, makeRecord, makeSubmission, refusal, signCommit, testSalt, testSeed,
  testServiceName, tipOf, type TestNetwork
} from '../helpers/fixtures.js'

const RECORDS = 5
const reasonOf = (v: CertificateVerdict): string => v.valid ? 'valid' : v.reason

/** Decode a changed encoding and check it; a refusal either way is a TrustnetError or valid:false. */
function outcome (genesis: Genesis, bytes: Uint8Array): string {
  let cert: Certificate
  try {
    cert = decode(CertificateSchema, bytes)
  } catch (err) {
    if (err instanceof TrustnetError) return `decode:${err.code}`
    throw err
  }
  return reasonOf(verifyCertificate(genesis, cert))
}

/** The certificate of record i (makeRecord(i), testSalt(i)) at leaf `leaf` of a committed block. */
const certOf = (b: { block: Parameters<typeof buildCertificate>[0], commit: Commit }, leaf: number, i: number): Certificate =>
  buildCertificate(b.block, b.commit, leaf, makeRecord(i), testSalt(i))

for (const n of [1, 4, 7]) {
  describe(`certificates of a network of ${n}`, () => {
    const net = makeNetwork(n)
    const quorum = net.validators.quorum
    const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(RECORDS))])
    const certs = Array.from({ length: RECORDS }, (_, i) => certOf({ block, commit }, i, i))
    const certifies = (i: number, signers = [...Array(quorum).keys()]) => ({
      valid: true, service: 'service-test', entry: toHex(makeEntry(i)), height: 1, time: block.header.time, signers
    })

    it(`has quorum ${quorum} = 2f+1 with f = ${(n - 1) / 3}`, () => {
      expect(quorum).toBe(2 * ((n - 1) / 3) + 1)
      expect(commit.signatures).toHaveLength(quorum)
    })

    it('verify for every record, saying what they certify, with either backend and after a round trip through CBOR', () => {
      certs.forEach((cert, i) => {
        expect(cert.v).toBe(3)
        expect(verifyCertificate(net.genesis, cert)).toEqual(certifies(i))
        expect(Object.keys(verifyCertificate(net.genesis, cert))[0]).toBe('valid')
        expect(verifyCertificate(net.genesis, cert, { ed: nobleEd25519 })).toEqual(certifies(i))
        expect(verifyCertificate(net.genesis, decode(CertificateSchema, encode(cert)))).toEqual(certifies(i))
      })
    })

    it('verify with more than a quorum of signatures (all validators)', () => {
      const all = signCommit(net, block.header, [...Array(n).keys()])
      expect(verifyCertificate(net.genesis, certOf({ block, commit: all }, 0, 0))).toEqual(certifies(0, [...Array(n).keys()]))
    })

    it('verify for a block at a later height', () => {
      const second = makeCommittedBlock(net, [makeSubmission(net, makeEntries(3, 100))], { tip: tipOf(block) })
      expect(verifyCertificate(net.genesis, certOf(second, 2, 102))).toMatchObject({ valid: true, height: 2, entry: toHex(makeEntry(102)) })
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
      for (const reason of ['decode:MALFORMED', 'decode:NON_CANONICAL', 'decode:INVALID_FIELD', 'UNKNOWN_SERVICE', 'INVALID_PROOF', 'BAD_SIGNATURE']) {
        expect(seen.get(reason) ?? 0, reason).toBeGreaterThan(0)
      }
    })

    if (n > 1) {
      it('refuse a commit with fewer than a quorum of signatures (INVALID_COMMIT)', () => {
        const short = signCommit(net, block.header, [...Array(quorum - 1).keys()])
        expect(reasonOf(verifyCertificate(net.genesis, certOf({ block, commit: short }, 0, 0)))).toBe('INVALID_COMMIT')
        // a quorum minus one of the validators at the top end, too
        const top = signCommit(net, block.header, [...Array(quorum - 1).keys()].map(i => n - quorum + 1 + i))
        expect(reasonOf(verifyCertificate(net.genesis, certOf({ block, commit: top }, 0, 0)))).toBe('INVALID_COMMIT')
      })

      it('refuse a duplicated signer even when the count reaches quorum (INVALID_COMMIT)', () => {
        const signers = [...Array(quorum - 1).keys()]
        const dup = signCommit(net, block.header, [...signers, signers[signers.length - 1] as number])
        expect(dup.signatures).toHaveLength(quorum)
        expect(reasonOf(verifyCertificate(net.genesis, certOf({ block, commit: dup }, 0, 0)))).toBe('INVALID_COMMIT')
      })

      it('refuse signers out of order (INVALID_COMMIT)', () => {
        const signers = [...Array(quorum).keys()]
        const swapped = [signers[1], signers[0], ...signers.slice(2)] as number[]
        const unordered = signCommit(net, block.header, swapped)
        expect(reasonOf(verifyCertificate(net.genesis, certOf({ block, commit: unordered }, 0, 0)))).toBe('INVALID_COMMIT')
      })

      it('refuse a bad signature even beyond the quorum (BAD_SIGNATURE)', () => {
        const all = signCommit(net, block.header, [...Array(n).keys()])
        const last = all.signatures[n - 1] as { validator: number, signature: Uint8Array }
        const signature = Uint8Array.from(last.signature)
        signature[0] = (signature[0] as number) ^ 0x80
        const broken: Commit = { ...all, signatures: [...all.signatures.slice(0, -1), { validator: last.validator, signature }] }
        expect(reasonOf(verifyCertificate(net.genesis, certOf({ block, commit: broken }, 0, 0)))).toBe('BAD_SIGNATURE')
      })
    }

    it('refuse an empty commit (INVALID_FIELD: the schema wants at least one signature)', () => {
      const empty: Commit = { ...commit, signatures: [] }
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: empty }))).toBe('INVALID_FIELD')
    })

    it('refuse a signature from a validator not in the genesis (UNKNOWN_VALIDATOR), or from an outsider in a member\'s place (BAD_SIGNATURE)', () => {
      const outsider = testSeed('outsider')
      const message = voteSignBytes(net.genesis.chainId, 'precommit', commit.height, commit.round, commit.blockHash)
      const outsiderSig = { validator: n, signature: defaultEd25519.sign(outsider, message) }
      const unknown: Commit = { ...commit, signatures: [...commit.signatures.slice(1), outsiderSig] }
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: unknown }))).toBe('UNKNOWN_VALIDATOR')
      const impostor: Commit = { ...commit, signatures: [{ validator: 0, signature: defaultEd25519.sign(outsider, message) }, ...commit.signatures.slice(1)] }
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: impostor }))).toBe('BAD_SIGNATURE')
    })

    it('refuse a commit for another block (INVALID_COMMIT), and signatures moved onto this block (BAD_SIGNATURE)', () => {
      const other = makeCommittedBlock(net, [makeSubmission(net, makeEntries(RECORDS, 50))])
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: other.commit }))).toBe('INVALID_COMMIT')
      const moved: Commit = { ...other.commit, blockHash: headerHash(block.header) }
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: moved }))).toBe('BAD_SIGNATURE')
    })

    it('refuse a commit of another height or round (INVALID_COMMIT, BAD_SIGNATURE)', () => {
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: { ...commit, height: 2 } }))).toBe('INVALID_COMMIT')
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], commit: { ...commit, round: 1 } }))).toBe('BAD_SIGNATURE')
      // precommits really signed for round 1 do make a valid commit
      const round1 = signCommit(net, block.header, [...Array(quorum).keys()], 1)
      expect(verifyCertificate(net.genesis, certOf({ block, commit: round1 }, 0, 0))).toEqual(certifies(0))
    })

    it('refuse a certificate checked against another chain\'s genesis (WRONG_CHAIN)', () => {
      const other = makeNetwork(n, { chainId: 'another-chain' })
      expect(reasonOf(verifyCertificate(other.genesis, certs[0]))).toBe('WRONG_CHAIN')
      // same validators, same chain id in the certificate but a header of another chain id
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], header: { ...block.header, chainId: 'another-chain' } }))).toBe('WRONG_CHAIN')
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], chainId: 'another-chain' }))).toBe('WRONG_CHAIN')
    })

    it('refuse a certificate checked against a genesis of the same chain id but other validators (WRONG_GENESIS)', () => {
      const impostors = makeNetwork(n, { keyLabel: 'impostor' })
      expect(reasonOf(verifyCertificate(impostors.genesis, certs[0]))).toBe('WRONG_GENESIS')
      // a header naming another genesis, even signed by this network's validators
      const elsewhere = { ...block.header, genesisHash: genesisHash(impostors.genesis) }
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], header: elsewhere, commit: signCommit(net, elsewhere, [...Array(quorum).keys()]) }))).toBe('WRONG_GENESIS')
    })

    it('refuse a proof of another leaf, another record or salt under this proof, and a changed record (INVALID_PROOF)', () => {
      for (let i = 0; i < RECORDS; i++) {
        const j = (i + 1) % RECORDS
        const cert = certs[i] as Certificate
        expect(reasonOf(verifyCertificate(net.genesis, { ...cert, proof: (certs[j] as Certificate).proof }))).toBe('INVALID_PROOF')
        expect(reasonOf(verifyCertificate(net.genesis, { ...cert, record: makeRecord(j), salt: testSalt(j) }))).toBe('INVALID_PROOF')
        expect(reasonOf(verifyCertificate(net.genesis, { ...cert, salt: testSalt(j) }))).toBe('INVALID_PROOF')
        expect(reasonOf(verifyCertificate(net.genesis, { ...cert, record: { ...cert.record, meta: { ...cert.record.meta, owner: 'mallory' } } }))).toBe('INVALID_PROOF')
        // leaving out an optional field changes the canonical bytes, so the entry
        expect(reasonOf(verifyCertificate(net.genesis, { ...cert, record: { ...cert.record, meta: { ...cert.record.meta, clientTime: undefined } } }))).toBe('INVALID_PROOF')
      }
      expect(reasonOf(verifyCertificate(net.genesis, { ...certs[0], record: makeRecord(999), salt: testSalt(999) }))).toBe('INVALID_PROOF')
    })

    it('refuse a header whose entry count exceeds what the network allows (INVALID_BLOCK)', () => {
      const small = makeNetwork(n, { params: { maxBlockEntries: RECORDS - 1 } })
      const big = makeCommittedBlock(small, [makeSubmission(small, makeEntries(RECORDS))])
      expect(reasonOf(verifyCertificate(small.genesis, certOf(big, 0, 0)))).toBe('INVALID_BLOCK')
    })

    it('refuse a block whose proposer is not a validator (INVALID_BLOCK)', () => {
      const stray = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))], { proposer: n })
      expect(reasonOf(verifyCertificate(net.genesis, certOf(stray, 0, 0)))).toBe('INVALID_BLOCK')
    })
  })
}

describe('certificates bind the record to the service that anchored it', () => {
  const net = makeNetwork(4, { services: 3 })
  const [A, B] = [testServiceName(0), testServiceName(1)]
  const recordOf = (i: number, service: string): LedgerRecord => makeRecord(i, { service })
  const entry = (i: number, service: string): Uint8Array => entryOf(recordOf(i, service), testSalt(i))
  // Service A anchors records 0-1, service B records 2-3 and one record (4) that names A.
  const committed = makeCommittedBlock(net, [
    makeSubmission(net, [entry(0, A), entry(1, A)], 0),
    makeSubmission(net, [entry(2, B), entry(3, B), entry(4, A)], 1)
  ])
  const cert = (leaf: number, i: number, service: string): Certificate =>
    buildCertificate(committed.block, committed.commit, leaf, recordOf(i, service), testSalt(i))

  it('names the service of each record in a block of several services', () => {
    expect(verifyCertificate(net.genesis, cert(1, 1, A))).toMatchObject({ valid: true, service: A, entry: toHex(entry(1, A)) })
    expect(verifyCertificate(net.genesis, cert(3, 3, B))).toMatchObject({ valid: true, service: B, entry: toHex(entry(3, B)) })
  })

  it('refuses a record naming one service under a leaf another service submitted (INVALID_PROOF)', () => {
    expect(reasonOf(verifyCertificate(net.genesis, cert(4, 4, A)))).toBe('INVALID_PROOF')
    // the same leaf proves the entry bound to B, which no record naming A can produce
    const proofs = new CertificateVerifier(net.genesis).blockProofsOf(committed.block, committed.commit)
    expect(leavesOf(committed.block.submissions)[4]).toEqual(leafBytes(1, entry(4, A)))
    expect((proofs[4] as InclusionProof).index).toBe(4)
  })

  it('refuses a record relabelled to another registered service (INVALID_PROOF) or to an unregistered one (UNKNOWN_SERVICE)', () => {
    const good = cert(2, 2, B)
    expect(reasonOf(verifyCertificate(net.genesis, { ...good, record: { ...good.record, service: A } }))).toBe('INVALID_PROOF')
    expect(reasonOf(verifyCertificate(net.genesis, { ...good, record: { ...good.record, service: testServiceName(2) } }))).toBe('INVALID_PROOF')
    expect(reasonOf(verifyCertificate(net.genesis, { ...good, record: { ...good.record, service: 'service-unknown' } }))).toBe('UNKNOWN_SERVICE')
  })

  it('follows the genesis: one with a service left out or the services reordered is another genesis (WRONG_GENESIS)', () => {
    const good = cert(2, 2, B)
    const services = net.genesis.services
    expect(reasonOf(verifyCertificate({ ...net.genesis, services: services.filter(s => s.name !== B) }, good))).toBe('WRONG_GENESIS')
    expect(reasonOf(verifyCertificate({ ...net.genesis, services: [services[1], services[0], services[2]] as Genesis['services'] }, good))).toBe('WRONG_GENESIS')
  })
})

describe('the genesis fingerprint and its pin', () => {
  const net = makeNetwork(4)
  const b = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))])
  const cert = certOf(b, 1, 1)
  const copied = makeNetwork(4, { keyLabel: 'copied' })
  const forged = certOf(makeCommittedBlock(copied, [makeSubmission(copied, makeEntries(2))]), 1, 1)
  const pin = genesisFingerprint(net.genesis)

  it('is the hex of the genesis hash every header names, whatever the layout of the genesis file', () => {
    expect(pin).toBe(toHex(cert.header.genesisHash))
    const json = JSON.parse(toJsonText(net.genesis)) as Record<string, unknown>
    const shuffled = Object.fromEntries(Object.entries(json).reverse())
    expect(genesisFingerprint(genesisFromJson(JSON.parse(JSON.stringify(shuffled, null, 4))))).toBe(pin)
    expect(genesisFingerprint({ ...net.genesis, genesisTime: net.genesis.genesisTime + 1 })).not.toBe(pin)
  })

  it('lets a forged certificate pass under a copied genesis, and not once the real genesis is pinned (GENESIS_PIN_MISMATCH)', () => {
    expect(copied.genesis.chainId).toBe(net.genesis.chainId)
    expect(verifyCertificate(copied.genesis, forged)).toMatchObject({ valid: true })
    expect(reasonOf(verifyCertificate(copied.genesis, forged, { pin }))).toBe('GENESIS_PIN_MISMATCH')
    expect(verifyCertificate(net.genesis, cert, { pin: ` ${pin.toUpperCase()} ` })).toMatchObject({ valid: true })
    expect(refusal(() => new CertificateVerifier(copied.genesis, defaultEd25519, { pin }))).toEqual({ name: 'InvalidInputError', code: 'GENESIS_PIN_MISMATCH' })
  })

  it('refuses a pin that is not a fingerprint (INVALID_PIN)', () => {
    for (const bad of ['', pin.slice(1), `sha256:${pin}`, `${pin}00`, 'z'.repeat(64)]) {
      expect(reasonOf(verifyCertificate(net.genesis, cert, { pin: bad })), bad).toBe('INVALID_PIN')
    }
  })
})

describe('verifyCertificate input handling', () => {
  const net = makeNetwork(4)
  const b = makeCommittedBlock(net, [makeSubmission(net, makeEntries(2))])
  const cert = certOf(b, 1, 1)

  it('refuses values that are not certificates, and version 1 and 2 certificates, with INVALID_FIELD, without throwing', () => {
    const v1 = { ...cert, v: 1, record: { ...cert.record, v: 1 } }
    const { genesisHash: _, ...v2Header } = cert.header
    for (const bad of [null, undefined, 42, 'certificate', [], {}, { ...cert, v: 1 }, v1, { ...cert, v: 2 }, { ...cert, v: 2, header: v2Header }, { ...cert, extra: true }, { ...cert, salt: cert.salt.subarray(1) }]) {
      expect(reasonOf(verifyCertificate(net.genesis, bad))).toBe('INVALID_FIELD')
    }
  })

  it('refuses an invalid genesis with INVALID_FIELD', () => {
    expect(reasonOf(verifyCertificate({ ...net.genesis, validators: [] }, cert))).toBe('INVALID_FIELD')
    const service = net.genesis.services[0] as Genesis['services'][number]
    expect(reasonOf(verifyCertificate({ ...net.genesis, services: [service, { ...service }] }, cert))).toBe('INVALID_FIELD')
  })

  it('refuses a genesis with repeated validator keys, or a service key of small order (INVALID_GENESIS)', () => {
    const first = net.genesis.validators[0] as { name: string, publicKey: Uint8Array }
    const repeated = { ...net.genesis, validators: [first, { ...first, name: 'copy' }, ...net.genesis.validators.slice(2)] }
    expect(reasonOf(verifyCertificate(repeated, cert))).toBe('INVALID_GENESIS')
    const identity = Uint8Array.from({ length: 32 }, (_, i) => i === 0 ? 1 : 0)
    expect(reasonOf(verifyCertificate({ ...net.genesis, services: [{ name: 'service-test', publicKey: identity }] }, cert))).toBe('INVALID_GENESIS')
  })

  it('buildCertificate refuses a leaf index outside the block (RangeError) and a record whose entry is not at that leaf (ENTRY_MISMATCH)', () => {
    expect(() => buildCertificate(b.block, b.commit, 2, makeRecord(1), testSalt(1))).toThrow(RangeError)
    expect(refusal(() => buildCertificate(b.block, b.commit, 0, makeRecord(1), testSalt(1)))).toEqual({ name: 'InvalidInputError', code: 'ENTRY_MISMATCH' })
    expect(refusal(() => buildCertificate(b.block, b.commit, 1, makeRecord(1), testSalt(2)))).toEqual({ name: 'InvalidInputError', code: 'ENTRY_MISMATCH' })
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
    const b = makeCommittedBlock(net, [makeSubmission(net, makeEntries(8))])
    let verifications = 0
    const counting = { ...defaultEd25519, verify: (...args: Parameters<typeof defaultEd25519.verify>) => { verifications++; return defaultEd25519.verify(...args) } }
    const verifier = new CertificateVerifier(net.genesis, counting)
    for (let i = 0; i < 8; i++) expect(verifier.verify(certOf(b, i, i))).toMatchObject({ valid: true })
    expect(verifications).toBe(3)

    const cert = certOf(b, 3, 3)
    const signature = Uint8Array.from(cert.commit.signatures[1]?.signature ?? [])
    signature[5] = (signature[5] as number) ^ 1
    const badSignature = { ...cert, commit: { ...cert.commit, signatures: cert.commit.signatures.map((s, i) => i === 1 ? { ...s, signature } : s) } }
    expect(verifier.verify(badSignature)).toMatchObject({ valid: false, reason: 'BAD_SIGNATURE' })
    const otherTime = { ...cert, header: { ...cert.header, time: cert.header.time + 1 } }
    expect(verifier.verify(otherTime)).toMatchObject({ valid: false, reason: 'INVALID_COMMIT' })
    // The good one is still good.
    expect(verifier.verify(cert)).toMatchObject({ valid: true })
  })
})

describe('CertificateVerifier.blockProofs (a whole block proven at once)', () => {
  const net: TestNetwork = makeNetwork(4, { services: 2 })
  const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(6)), makeSubmission(net, makeEntries(7, 6), 1)])
  const leaves = leavesOf(block.submissions)
  const code = (f: () => unknown): string => refusal(f).code

  it('gives every leaf a proof whose certificate verifies on its own, from the leaves or from the block', () => {
    const verifier = new CertificateVerifier(net.genesis)
    const proofs = verifier.blockProofs(block.header, commit, leaves)
    expect(proofs).toHaveLength(13)
    expect(verifier.blockProofsOf(block, commit)).toEqual(proofs)
    for (let i = 0; i < 6; i++) {
      const cert = certificateOf(makeRecord(i), testSalt(i), { header: block.header, commit }, proofs[i] as InclusionProof)
      expect(verifyCertificate(net.genesis, cert)).toMatchObject({ valid: true, service: 'service-test' })
      expect(cert).toEqual(certOf({ block, commit }, i, i))
    }
    // makeEntries names service-test in its records: under service 1's leaves they prove nothing
    const misfiled = certificateOf(makeRecord(6), testSalt(6), { header: block.header, commit }, proofs[6] as InclusionProof)
    expect(reasonOf(verifyCertificate(net.genesis, misfiled))).toBe('INVALID_PROOF')
  })

  it('refuses leaves that do not build the header, with a typed error', () => {
    const verifier = new CertificateVerifier(net.genesis)
    const swapped = [leaves[1], leaves[0], ...leaves.slice(2)] as Uint8Array[]
    const changed = leaves.map((leaf, i) => i === 7 ? Uint8Array.from(leaf, (b, k) => k === 0 ? b ^ 1 : b) : leaf)
    expect(code(() => verifier.blockProofs(block.header, commit, swapped))).toBe('INVALID_PROOF')
    expect(code(() => verifier.blockProofs(block.header, commit, changed))).toBe('INVALID_PROOF')
    expect(code(() => verifier.blockProofs(block.header, commit, leaves.slice(1)))).toBe('INVALID_PROOF')
    expect(code(() => verifier.blockProofs(block.header, commit, [...leaves, leaves[0] as Uint8Array]))).toBe('INVALID_PROOF')
    // bare entries are not leaves
    expect(code(() => verifier.blockProofs(block.header, commit, leaves.map(l => l.subarray(2))))).toBe('INVALID_PROOF')
    // a block whose submissions were changed
    expect(code(() => verifier.blockProofsOf({ ...block, submissions: block.submissions.slice(0, 1) }, commit))).toBe('INVALID_PROOF')
  })

  it('refuses a commit without a quorum of valid signatures, and a header of another chain', () => {
    const verifier = new CertificateVerifier(net.genesis)
    const short = { ...commit, signatures: commit.signatures.slice(0, 2) }
    expect(code(() => verifier.blockProofs(block.header, short, leaves))).toBe('INVALID_COMMIT')
    const forged = { ...commit, signatures: commit.signatures.map((s, i) => i === 0 ? { ...s, signature: new Uint8Array(64) } : s) }
    expect(code(() => verifier.blockProofs(block.header, forged, leaves))).toBe('BAD_SIGNATURE')
    expect(code(() => verifier.checkSeal(block.header, forged))).toBe('BAD_SIGNATURE')
    expect(code(() => verifier.blockProofs({ ...block.header, chainId: 'other' }, commit, leaves))).toBe('WRONG_CHAIN')
    // Nothing above poisoned the cache: the real block still passes.
    expect(verifier.blockProofs(block.header, commit, leaves)).toHaveLength(13)
    expect(() => verifier.checkSeal(block.header, commit)).not.toThrow()
  })
})
