/**
 * Deterministic test data for every test level: validator and service keys from fixed seeds, a
 * genesis for n validators and registered services, records with their salts and entries, signed
 * submissions, and committed blocks whose commit is signed by a chosen set of validators.
 * Everything is a pure function of its arguments, so a failing test reproduces exactly.
 *
 *   const net = makeNetwork(4)                            // genesis, seeds, ValidatorSet, service seeds
 *   const { block, commit } = makeCommittedBlock(net, [makeSubmission(net, makeEntries(5))])  // signed by validators 0..2
 *   const tip = tipOf(block)                              // extend it: makeCommittedBlock(net, rs, { tip })
 *   expect(refusal(() => decode(...))).toEqual({ name: 'InvalidInputError', code: 'MALFORMED' })
 */
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { TrustnetError } from '../../consensus/errors.js'
import { sha256 } from '../../consensus/hash.js'
import { chainOf, genesisHash, headerHash } from '../../consensus/ids.js'
import { entryOf, packEntries, signSubmission } from '../../consensus/entries.js'
import { voteSignBytes } from '../../consensus/sign-bytes.js'
import { DEFAULT_PARAMS, type Block, type BlockHeader, type Commit, type ConsensusParams, type Genesis, type LedgerRecord, type RecordMetadata, type Submission, type Vote, type VoteType } from '../../consensus/types.js'
import { ValidatorSet } from '../../consensus/validator-set.js'

export const TEST_CHAIN_ID = 'trustnet-test'
/** Genesis time of test networks (ms since the epoch); blocks made here are 1 s apart from it. */
export const TEST_GENESIS_TIME = 1_700_000_000_000

const utf8 = new TextEncoder()

/** A 32-byte ed25519 seed derived from a label: same label, same key, in every run. */
export function testSeed (label: string): Uint8Array {
  return sha256(utf8.encode(`trustnet/test/seed/${label}`))
}

export interface TestNetwork {
  genesis: Genesis
  /** seeds[i] is the private seed of genesis.validators[i]. */
  seeds: Uint8Array[]
  validators: ValidatorSet
  /** serviceSeeds[i] is the private seed of genesis.services[i] (named service-test, service-1, ...). */
  serviceSeeds: Uint8Array[]
}

export interface NetworkOptions {
  chainId?: string
  params?: Partial<ConsensusParams>
  genesisTime?: number
  /** Label mixed into the key seeds, so two networks can have disjoint validators. */
  keyLabel?: string
  /** Registered services. @default 1 */
  services?: number
}

/** The name of test service i: the first is the one makeRecord names. */
export const testServiceName = (i: number): string => i === 0 ? 'service-test' : `service-${i}`

/** A network of n validators named v0..v{n-1}, keys from testSeed(`${keyLabel}/${i}`). */
export function makeNetwork (n: number, options: NetworkOptions = {}): TestNetwork {
  const keyLabel = options.keyLabel ?? 'validator'
  const seeds = Array.from({ length: n }, (_, i) => testSeed(`${keyLabel}/${i}`))
  const serviceSeeds = Array.from({ length: options.services ?? 1 }, (_, i) => testSeed(`service/${i}`))
  const genesis: Genesis = {
    chainId: options.chainId ?? TEST_CHAIN_ID,
    genesisTime: options.genesisTime ?? TEST_GENESIS_TIME,
    validators: seeds.map((s, i) => ({ name: `v${i}`, publicKey: defaultEd25519.publicKey(s) })),
    services: serviceSeeds.map((s, i) => ({ name: testServiceName(i), publicKey: defaultEd25519.publicKey(s) })),
    params: { ...DEFAULT_PARAMS, ...options.params }
  }
  return { genesis, seeds, validators: new ValidatorSet(genesis), serviceSeeds }
}

/** A committed-id lookup for a chain that holds none of the records a test uses. */
export const nothingCommitted = (_id: Uint8Array): boolean => false

/** The tip a first block extends: height 0, the genesis hash and time. */
export function genesisTip (net: TestNetwork): ChainTip {
  return { height: 0, hash: genesisHash(net.genesis), time: net.genesis.genesisTime }
}

/** The tip a block leaves behind, for building the next one. */
export function tipOf (block: Block): ChainTip {
  return { height: block.header.height, hash: headerHash(block.header), time: block.header.time }
}

/** Record number i: distinct i give distinct records (and ids); all metadata fields are set. */
export function makeRecord (i: number, options: { service?: string, meta?: RecordMetadata } = {}): LedgerRecord {
  return {
    v: 2,
    dataHash: sha256(utf8.encode(`trustnet/test/data/${i}`)),
    meta: options.meta ?? { name: `file-${i}.txt`, size: 1000 + i, contentType: 'text/plain', owner: 'alice', clientTime: TEST_GENESIS_TIME + i },
    service: options.service ?? 'service-test'
  }
}

/** Records first..first+count-1. */
export function makeRecords (count: number, first = 0): LedgerRecord[] {
  return Array.from({ length: count }, (_, k) => makeRecord(first + k))
}

/** The salt of record number i (a real service draws it at random). */
export function testSalt (i: number): Uint8Array {
  return sha256(utf8.encode(`trustnet/test/salt/${i}`))
}

/** The entry of record number i under its test salt. */
export function makeEntry (i: number): Uint8Array {
  return entryOf(makeRecord(i), testSalt(i))
}

/** Entries of records first..first+count-1. */
export function makeEntries (count: number, first = 0): Uint8Array[] {
  return Array.from({ length: count }, (_, k) => makeEntry(first + k))
}

/** `entries` signed by registered service `service` of `net` (default the first). */
export function makeSubmission (net: TestNetwork, entries: readonly Uint8Array[], service = 0): Submission {
  const seed = net.serviceSeeds[service]
  if (seed === undefined) throw new RangeError(`no service ${service}`)
  return signSubmission(net.genesis.chainId, service, packEntries(entries), seed)
}

/** A vote signed by validator `validator` of `net`. */
export function signVote (net: TestNetwork, validator: number, type: VoteType, height: number, round: number, blockHash: Uint8Array | null): Vote {
  const seed = net.seeds[validator]
  if (seed === undefined) throw new RangeError(`no validator ${validator}`)
  const signature = defaultEd25519.sign(seed, voteSignBytes(net.genesis.chainId, type, height, round, blockHash))
  return { type, height, round, blockHash, validator, signature }
}

/** A commit of `header` with one precommit signature per entry of `signers`, in the order given (pass ascending indices for a valid one). */
export function signCommit (net: TestNetwork, header: BlockHeader, signers: readonly number[], round = 0): Commit {
  const blockHash = headerHash(header)
  const signatures = signers.map(validator => ({
    validator,
    signature: signVote(net, validator, 'precommit', header.height, round, blockHash).signature
  }))
  return { height: header.height, round, blockHash, signatures }
}

export interface CommitOptions {
  /** Validators that sign the commit; default the first quorum (0..quorum-1). Sorted ascending. */
  signers?: readonly number[]
  round?: number
  /** Chain tip the block extends; default genesisTip(net). */
  tip?: ChainTip
  /** Block time; default tip time + 1000 ms. */
  time?: number
  /** Default the round-robin proposer of (height, round). */
  proposer?: number
}

export interface CommittedBlock { block: Block, commit: Commit, hash: Uint8Array }

/** A block of `submissions` on `net` and a commit of it signed by `options.signers`. */
export function makeCommittedBlock (net: TestNetwork, submissions: Submission[], options: CommitOptions = {}): CommittedBlock {
  const tip = options.tip ?? genesisTip(net)
  const round = options.round ?? 0
  const proposer = options.proposer ?? net.validators.proposer(tip.height + 1, round)
  const block = buildBlock(chainOf(net.genesis), tip, proposer, options.time ?? tip.time + 1000, submissions)
  const signers = [...(options.signers ?? Array.from({ length: net.validators.quorum }, (_, i) => i))].sort((a, b) => a - b)
  return { block, commit: signCommit(net, block.header, signers, round), hash: headerHash(block.header) }
}

/**
 * The `name` and `code` of the TrustnetError that `fn` throws, for asserting refusals without
 * looking at messages. Rethrows anything else and fails if nothing is thrown.
 */
export function refusal (fn: () => unknown): { name: string, code: string } {
  try {
    fn()
  } catch (err) {
    if (err instanceof TrustnetError) return { name: err.name, code: err.code }
    throw err
  }
  throw new Error('expected a TrustnetError, nothing was thrown')
}
