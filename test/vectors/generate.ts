/**
 * The test vectors of certificate v3 (docs/certificate.md): a genesis, valid certificates, and
 * invalid ones each with the code a verifier must refuse it with and the one change that makes
 * it fail. Deterministic: keys, salts and times come from the fixed seeds of
 * test/helpers/fixtures.ts and ed25519 signatures are deterministic, so regenerating writes
 * identical files (test/unit/vectors.test.ts checks both the verdicts and that).
 *
 *   npx tsc -p tsconfig.json && node dist/test/vectors/generate.js [directory, default test/vectors]
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { buildCertificate, type CertifiedEntry } from '../../consensus/certificate.js'
import { encode } from '../../consensus/codec.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { entryOf, leafBytes } from '../../consensus/entries.js'
import type { ErrorCode } from '../../consensus/errors.js'
import { DOMAIN, taggedHash } from '../../consensus/hash.js'
import { genesisHash, headerHash, toHex } from '../../consensus/ids.js'
import { toJson, type Json } from '../../consensus/json.js'
import { leafHash, merkleRoot, nodeHash } from '../../consensus/merkle.js'
import { voteSignBytes } from '../../consensus/sign-bytes.js'
import type { Certificate, Commit, LedgerRecord } from '../../consensus/types.js'
import {
  makeCommittedBlock, makeNetwork, makeRecord, makeSubmission, signCommit, signVote, testSalt, testSeed,
  testServiceName, tipOf, type CommittedBlock, type TestNetwork
} from '../helpers/fixtures.js'

/** One line of manifest.json. */
export interface VectorCase {
  /** Path under the vectors directory. */
  file: string
  valid: boolean
  /** The code a verifier refuses an invalid vector with. */
  code?: ErrorCode
  /** What the vector is (valid) or the one thing wrong with it (invalid). */
  reason: string
  /** What a valid vector certifies: the verdict's fields after `valid`. */
  certifies?: Omit<CertifiedEntry, 'valid'>
}

export interface VectorFile { path: string, text: string }

const utf8 = new TextEncoder()
const SERVICE_A = testServiceName(0)
const SERVICE_B = testServiceName(1)
/** The validators and services of the vectors' network: 4 validators (quorum 3), 2 services. */
const VALIDATORS = 4
const SERVICES = 2
/** The leaf proven in the 1000-entry block: deep in the tree, not on its edge. */
const DEEP_LEAF = 777
/** The leaf proven in the block of two services: the second entry of service B. */
const TWO_SERVICES_LEAF = 4

interface Item { record: LedgerRecord, salt: Uint8Array }

const item = (i: number, service = SERVICE_A): Item => ({ record: makeRecord(i, { service }), salt: testSalt(i) })
const entryOfItem = (it: Item): Uint8Array => entryOf(it.record, it.salt)

/** The committed blocks the vectors come from, on the vectors' network. */
function vectorChain (net: TestNetwork = makeNetwork(VALIDATORS, { services: SERVICES })) {
  const single = item(0)
  const b1 = makeCommittedBlock(net, [makeSubmission(net, [entryOfItem(single)])])

  const deep = Array.from({ length: 1000 }, (_, k) => item(1000 + k))
  const b2 = makeCommittedBlock(net, [makeSubmission(net, deep.map(entryOfItem))], { tip: tipOf(b1.block) })

  // Service B also anchors a record that names service A: its leaf says B, so no certificate can claim A.
  const ofA = [item(100), item(101), item(102)]
  const ofB = [item(200, SERVICE_B), item(201, SERVICE_B), item(202, SERVICE_B)]
  const mislabelled = item(203, SERVICE_A)
  const b3 = makeCommittedBlock(net, [
    makeSubmission(net, ofA.map(entryOfItem), 0),
    makeSubmission(net, [...ofB, mislabelled].map(entryOfItem), 1)
  ], { tip: tipOf(b2.block) })

  return { net, single, b1, deep, b2, ofA, ofB, mislabelled, b3 }
}

/** Every file of the vectors directory, in a fixed order. */
export function generateVectors (): VectorFile[] {
  const chain = vectorChain()
  const { net, single, b1, deep, b2, ofB, mislabelled, b3 } = chain
  const cases: VectorCase[] = []
  const files: VectorFile[] = [{ path: 'genesis.json', text: jsonText(toJson(net.genesis)) }]
  const add = (file: string, json: Json, expect: Omit<VectorCase, 'file'>): void => {
    cases.push({ file, ...expect })
    files.push({ path: file, text: jsonText(json) })
  }
  const valid = (name: string, cert: Certificate, reason: string): void => {
    add(`valid/${name}.json`, toJson(cert), { valid: true, reason, certifies: certifies(cert) })
  }
  // A certificate, or JSON already (for what only the JSON form can get wrong): toJson leaves JSON as it is.
  const invalid = (name: string, cert: Certificate | Json, code: ErrorCode, reason: string): void => {
    add(`invalid/${name}.json`, toJson(cert), { valid: false, code, reason })
  }

  const one = buildCertificate(b1.block, b1.commit, 0, single.record, single.salt)
  const deepItem = deep[DEEP_LEAF] as Item
  const deepCert = buildCertificate(b2.block, b2.commit, DEEP_LEAF, deepItem.record, deepItem.salt)
  const ofBItem = ofB[TWO_SERVICES_LEAF - 3] as Item
  const two = buildCertificate(b3.block, b3.commit, TWO_SERVICES_LEAF, ofBItem.record, ofBItem.salt)
  const all = signCommit(net, b1.block.header, [0, 1, 2, 3])

  valid('single-entry', one, 'the only entry of a block, signed by a quorum (3 of 4)')
  valid('deep-proof', deepCert, `leaf ${DEEP_LEAF} of a block of 1000 entries: a proof of 10 siblings`)
  valid('two-services', two, `leaf ${TWO_SERVICES_LEAF} of a block of 7 entries from two services, anchored by the second service (index 1)`)
  valid('all-signers', { ...one, commit: all }, 'the single-entry block with a commit signed by all 4 validators')

  const flip = (bytes: Uint8Array, at = 0): Uint8Array => Uint8Array.from(bytes, (b, i) => i === at ? b ^ 0x01 : b)
  invalid('tampered-data-hash', { ...one, record: { ...one.record, dataHash: flip(one.record.dataHash) } }, 'INVALID_PROOF',
    'the data hash differs by one bit: the entry rebuilt from the record is not the anchored one')
  invalid('tampered-name', { ...one, record: { ...one.record, meta: { ...one.record.meta, name: 'file-0.pdf' } } }, 'INVALID_PROOF',
    'the metadata name is changed: the entry rebuilt from the record is not the anchored one')
  invalid('tampered-salt', { ...one, salt: flip(one.salt, 31) }, 'INVALID_PROOF',
    'the salt differs by one bit: the entry rebuilt from the record is not the anchored one')
  invalid('unregistered-service', { ...one, record: { ...one.record, service: 'service-unknown' } }, 'UNKNOWN_SERVICE',
    'the record names a service the genesis does not register')
  invalid('service-swapped', buildCertificate(b3.block, b3.commit, 6, mislabelled.record, mislabelled.salt), 'INVALID_PROOF',
    `a record naming ${SERVICE_A} whose entry ${SERVICE_B} submitted: the leaf binds the entry to service 1, the record claims service 0`)
  invalid('service-renamed', { ...two, record: { ...two.record, service: SERVICE_A } }, 'INVALID_PROOF',
    `a certificate of ${SERVICE_B} with the record's service changed to ${SERVICE_A}: another entry, under another service index`)
  invalid('wrong-proof-index', { ...deepCert, proof: { ...deepCert.proof, index: DEEP_LEAF + 1 } }, 'INVALID_PROOF',
    `the proof of leaf ${DEEP_LEAF} presented as the proof of leaf ${DEEP_LEAF + 1}`)
  invalid('truncated-siblings', { ...deepCert, proof: { ...deepCert.proof, siblings: deepCert.proof.siblings.slice(0, -1) } }, 'INVALID_PROOF',
    'the proof lacks its last sibling: the path is shorter than the tree size requires')
  invalid('extra-sibling', { ...deepCert, proof: { ...deepCert.proof, siblings: [...deepCert.proof.siblings, deepCert.header.entriesRoot] } }, 'INVALID_PROOF',
    'the proof has one sibling more than the tree size allows')
  invalid('header-root-changed', { ...one, header: { ...one.header, entriesRoot: flip(one.header.entriesRoot) } }, 'INVALID_PROOF',
    'the header\'s entries root differs by one bit: the entry is not under it')
  invalid('header-time-changed', { ...one, header: { ...one.header, time: one.header.time + 1 } }, 'INVALID_COMMIT',
    'the header\'s time is one millisecond later: its hash is not the block hash the commit signs')
  invalid('proposer-not-validator', proposerOutsideCertificate(net), 'INVALID_BLOCK',
    'a header naming proposer 4 of a network of 4 validators (indexes 0-3), though a quorum signed it')

  const commitOf = (signatures: Commit['signatures']): Commit => ({ ...b1.commit, signatures })
  const precommit = voteSignBytes(net.genesis.chainId, 'precommit', b1.commit.height, b1.commit.round, b1.commit.blockHash)
  const outsider = defaultEd25519.sign(testSeed('outsider'), precommit)
  const sigs = b1.commit.signatures
  invalid('below-quorum', { ...one, commit: signCommit(net, b1.block.header, [0, 1]) }, 'INVALID_COMMIT',
    'two precommit signatures, the quorum of 4 validators is 3')
  invalid('duplicate-signer', { ...one, commit: signCommit(net, b1.block.header, [0, 1, 1]) }, 'INVALID_COMMIT',
    'three signatures but validator 1 signs twice: two distinct validators, below the quorum of 3')
  invalid('signers-out-of-order', { ...one, commit: signCommit(net, b1.block.header, [1, 0, 2]) }, 'INVALID_COMMIT',
    'valid signatures of validators 1, 0, 2: signatures must be in ascending validator order')
  invalid('non-validator-key', { ...one, commit: commitOf([sigs[0], sigs[1], { validator: 2, signature: outsider }] as Commit['signatures']) }, 'BAD_SIGNATURE',
    'the signature under validator 2 is made by a key that is not validator 2\'s (nor any validator\'s)')
  invalid('unknown-validator', { ...one, commit: commitOf([sigs[0], sigs[1], { validator: 4, signature: outsider }] as Commit['signatures']) }, 'UNKNOWN_VALIDATOR',
    'the third signature claims validator 4, which the genesis does not have')
  invalid('bad-signature', { ...one, commit: commitOf(sigs.map((s, i) => i === 2 ? { ...s, signature: flip(s.signature, 40) } : s)) }, 'BAD_SIGNATURE',
    'one bit of validator 2\'s signature is flipped')
  invalid('commit-other-round', { ...one, commit: { ...b1.commit, round: 1 } }, 'BAD_SIGNATURE',
    'the commit says round 1, its precommits were signed for round 0')
  invalid('commit-other-block', { ...one, commit: makeCommittedBlock(net, [makeSubmission(net, [entryOfItem(item(1))])]).commit }, 'INVALID_COMMIT',
    'a quorum\'s commit of another block at the same height')
  invalid('wrong-chain-id', otherChainCertificate(), 'WRONG_CHAIN',
    'a valid certificate of chain trustnet-other (same validators and services), checked against this genesis')
  const copied = copiedNetwork()
  invalid('copied-genesis', copiedGenesisCertificate(copied), 'WRONG_GENESIS',
    'a certificate valid under a copy of this genesis (same chain id and services, the validator keys replaced), checked against this genesis')
  const elsewhere = { ...b1.block.header, genesisHash: genesisHash(copied.genesis) }
  invalid('header-other-genesis', { ...one, header: elsewhere, commit: signCommit(net, elsewhere, [0, 1, 2]) }, 'WRONG_GENESIS',
    'a header naming the copied genesis, though a quorum of this network\'s validators signed it')
  invalid('v1-certificate', v1Certificate(net), 'INVALID_FIELD',
    'a certificate of version 1 (record in clear, header recordsRoot/recordCount): only v 3 is accepted')
  invalid('v2-certificate', v2Certificate(net, one), 'INVALID_FIELD',
    'a certificate of version 2 (a header without genesisHash, hashed under trustnet/header/v2): only v 3 is accepted')
  invalid('short-salt', { ...toJsonObject(one), salt: toHex(one.salt.subarray(0, 31)) }, 'INVALID_FIELD',
    'the salt is 31 bytes, not 32')
  invalid('uppercase-hex', { ...toJsonObject(one), salt: toHex(one.salt).toUpperCase() }, 'INVALID_FIELD',
    'the salt is in uppercase hex: byte fields are lowercase hex')

  files.push({ path: 'manifest.json', text: jsonText(cases as unknown as Json) })
  return files
}

/** What a valid certificate's verdict says after `valid`. */
function certifies (cert: Certificate): Omit<CertifiedEntry, 'valid'> {
  return {
    service: cert.record.service,
    entry: toHex(entryOf(cert.record, cert.salt)),
    height: cert.header.height,
    time: cert.header.time,
    signers: cert.commit.signatures.map(s => s.validator)
  }
}

function proposerOutsideCertificate (net: TestNetwork): Certificate {
  const it = item(300)
  const stray: CommittedBlock = makeCommittedBlock(net, [makeSubmission(net, [entryOfItem(it)])], { proposer: VALIDATORS })
  return buildCertificate(stray.block, stray.commit, 0, it.record, it.salt)
}

function otherChainCertificate (): Certificate {
  const other = makeNetwork(VALIDATORS, { services: SERVICES, chainId: 'trustnet-other' })
  const it = item(0)
  const b = makeCommittedBlock(other, [makeSubmission(other, [entryOfItem(it)])])
  return buildCertificate(b.block, b.commit, 0, it.record, it.salt)
}

/** A copy of the vectors' genesis: same chain id, time, services and parameters, other validator keys. */
function copiedNetwork (): TestNetwork {
  return makeNetwork(VALIDATORS, { services: SERVICES, keyLabel: 'copied' })
}

/** What whoever holds the copy's keys can issue: the same record, in a block they commit themselves. */
function copiedGenesisCertificate (copied: TestNetwork): Certificate {
  const it = item(0)
  const b = makeCommittedBlock(copied, [makeSubmission(copied, [entryOfItem(it)])])
  return buildCertificate(b.block, b.commit, 0, it.record, it.salt)
}

/** `cert` as version 2 made it, valid then for the same validators: no genesis hash in the header. */
function v2Certificate (net: TestNetwork, cert: Certificate): Json {
  const { genesisHash: _, ...header } = cert.header
  const blockHash = taggedHash('trustnet/header/v2', encode(header))
  const signatures = [0, 1, 2].map(v => ({ validator: v, signature: signVote(net, v, 'precommit', header.height, 0, blockHash).signature }))
  return toJson({ ...cert, v: 2, header, commit: { height: header.height, round: 0, blockHash, signatures } })
}

/**
 * A certificate as version 1 made it, valid then for the same validators: the record in clear
 * (v 1, no salt) and its id under the header's recordsRoot.
 */
function v1Certificate (net: TestNetwork): Json {
  const record = { ...makeRecord(0), v: 1 }
  const recordId = taggedHash('trustnet/record/v1', encode(record))
  const header = {
    chainId: net.genesis.chainId,
    height: 1,
    prevHash: genesisHash(net.genesis),
    time: net.genesis.genesisTime + 1000,
    proposer: 1,
    recordsRoot: merkleRoot([recordId]),
    recordCount: 1
  }
  const blockHash = taggedHash('trustnet/header/v1', encode(header))
  const signatures = [0, 1, 2].map(v => ({ validator: v, signature: signVote(net, v, 'precommit', 1, 0, blockHash).signature }))
  return toJson({ v: 1, chainId: net.genesis.chainId, record, header, proof: { index: 0, siblings: [] }, commit: { height: 1, round: 0, blockHash, signatures } })
}

/**
 * Every intermediate value of verifying valid/two-services.json, in order, as label and value
 * (hex for bytes): what docs/certificate.md's worked example shows.
 */
export function workedExample (): Array<[string, string]> {
  const { net, ofB, b3 } = vectorChain()
  const it = ofB[TWO_SERVICES_LEAF - 3] as Item
  const cert = buildCertificate(b3.block, b3.commit, TWO_SERVICES_LEAF, it.record, it.salt)
  const out: Array<[string, string]> = []
  const put = (label: string, value: Uint8Array | string | number): void => {
    out.push([label, value instanceof Uint8Array ? toHex(value) : String(value)])
  }
  const recordCbor = encode(cert.record)
  put('record CBOR', recordCbor)
  put('salt', cert.salt)
  const entryInput = new Uint8Array([...utf8.encode(DOMAIN.entry), 0, ...cert.salt, ...recordCbor])
  put('entry hash input (tag, 00, salt, record CBOR)', entryInput)
  const entry = taggedHash(DOMAIN.entry, cert.salt, recordCbor)
  put('entry', entry)
  const service = net.genesis.services.findIndex(s => s.name === cert.record.service)
  put('service index', service)
  const leaf = leafBytes(service, entry)
  put('leaf', leaf)
  let r = leafHash(leaf)
  put('leaf hash', r)
  // RFC 9162 2.1.3.2, step by step.
  let fn = cert.proof.index
  let sn = cert.header.entryCount - 1
  cert.proof.siblings.forEach((p, k) => {
    const left = fn % 2 === 1 || fn === sn
    r = left ? nodeHash(p, r) : nodeHash(r, p)
    put(`sibling ${k}`, p)
    put(`node ${k} (${left ? 'sibling || node' : 'node || sibling'})`, r)
    if (left && fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  })
  put('entries root', cert.header.entriesRoot)
  put('genesis hash', genesisHash(net.genesis))
  const headerCbor = encode(cert.header)
  put('header CBOR', headerCbor)
  put('header hash', headerHash(cert.header))
  const signBytes = voteSignBytes(cert.chainId, 'precommit', cert.commit.height, cert.commit.round, cert.commit.blockHash)
  put('precommit sign bytes', signBytes)
  for (const s of cert.commit.signatures) {
    put(`validator ${s.validator} public key`, net.genesis.validators[s.validator]?.publicKey ?? new Uint8Array(0))
    put(`validator ${s.validator} signature`, s.signature)
  }
  return out
}

export async function writeVectors (dir: string): Promise<void> {
  for (const f of generateVectors()) {
    const path = join(dir, f.path)
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, f.text)
  }
}

function jsonText (json: Json): string {
  return JSON.stringify(json, null, 2) + '\n'
}

function toJsonObject (cert: Certificate): { [key: string]: Json } {
  return toJson(cert) as { [key: string]: Json }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await writeVectors(resolve(process.argv[2] ?? 'test/vectors'))
}
