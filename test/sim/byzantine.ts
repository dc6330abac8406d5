/**
 * What lying validators send. A faulty validator runs the ordinary machine (so it knows the
 * protocol's state) and its outgoing messages are rewritten here, signed with its real key:
 * different proposals to different peers, conflicting votes, forged signatures, invalid blocks,
 * claims of heights it has not reached, and blocks re-proposing records already on chain.
 */
import * as cborg from 'cborg'
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { headerHash, idKey, recordId } from '../../consensus/ids.js'
import { encodeMessage } from '../../consensus/messages.js'
import { proposalSignBytes, voteSignBytes } from '../../consensus/sign-bytes.js'
import type { Block, ConsensusMessage, LedgerRecord, Proposal, Vote } from '../../consensus/types.js'
import type { Rng } from '../../lib/rng.js'
import type { Behaviour } from './scenario.js'

export interface Outgoing { to: number[], bytes: Uint8Array }

export interface LiarContext {
  rng: Rng
  chainId: string
  index: number
  seed: Uint8Array
  peers: number[]
  /** Validators in the network. */
  n: number
  /** Records a block may hold. */
  maxRecords: number
  /** The blocks this liar committed, in order. */
  chain: readonly Block[]
  /** A block proposed by anyone, by hash. */
  block: (hash: Uint8Array) => Block | undefined
  /** A record this liar saw committed, to re-propose it (a duplicate on chain). */
  oldRecord?: LedgerRecord
}

const ed = defaultEd25519

function signVote (ctx: LiarContext, v: Omit<Vote, 'signature'>): Vote {
  return { ...v, signature: ed.sign(ctx.seed, voteSignBytes(ctx.chainId, v.type, v.height, v.round, v.blockHash)) }
}

function signProposal (ctx: LiarContext, p: Omit<Proposal, 'signature'>): Proposal {
  const hash = headerHash(p.block.header)
  return { ...p, signature: ed.sign(ctx.seed, proposalSignBytes(ctx.chainId, p.height, p.round, p.validRound, hash)) }
}

function split (ctx: LiarContext): [number[], number[]] {
  const shuffled = ctx.rng.shuffle(ctx.peers)
  const cut = Math.ceil(shuffled.length / 2)
  return [shuffled.slice(0, cut), shuffled.slice(cut)]
}

const all = (ctx: LiarContext, message: ConsensusMessage): Outgoing => ({ to: ctx.peers, bytes: encodeMessage(message) })

/** Rewrites one broadcast of a faulty validator into what it really sends. */
export function misbehave (behaviour: Behaviour, ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  switch (behaviour) {
    case 'crash': return [all(ctx, message)]
    case 'equivocating-leader': return equivocateProposal(ctx, message)
    case 'double-voter': return doubleVote(ctx, message)
    case 'bad-signatures': return badSignatures(ctx, message)
    case 'invalid-proposals': return invalidProposal(ctx, message)
    case 'height-liar': return lieAboutHeight(ctx, message)
    case 'replaying-proposer': return replayCommitted(ctx, message)
  }
}

/**
 * Its proposals also hold records already on chain. And as soon as it precommits a block while
 * leading the next height, it proposes that next height with the block's records: peers still
 * deciding the first height buffer that proposal and judge it right after their commit.
 */
function replayCommitted (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type === 'proposal') {
    const p = message.proposal
    const last = ctx.chain[ctx.chain.length - 1]
    const replayed = withCommitted(ctx, p.block.records, last?.records ?? [])
    if (replayed === undefined || p.validRound !== -1) return [all(ctx, message)]
    const block = rebuild(ctx, p.block, replayed)
    return [all(ctx, { type: 'proposal', proposal: signProposal(ctx, { height: p.height, round: p.round, validRound: -1, block }) })]
  }
  const v = message.type === 'vote' ? message.vote : undefined
  if (v === undefined || v.type !== 'precommit' || v.blockHash === null || (v.height + 1) % ctx.n !== ctx.index) return [all(ctx, message)]
  const deciding = ctx.block(v.blockHash)
  const replayed = deciding === undefined ? undefined : withCommitted(ctx, [], deciding.records)
  if (deciding === undefined || replayed === undefined) return [all(ctx, message)]
  const tip: ChainTip = { height: v.height, hash: v.blockHash, time: deciding.header.time }
  const block = buildBlock(ctx.chainId, tip, ctx.index, deciding.header.time, replayed)
  const early = signProposal(ctx, { height: v.height + 1, round: 0, validRound: -1, block })
  return [all(ctx, message), all(ctx, { type: 'proposal', proposal: early })]
}

/**
 * The first record of the liar's oldest non-empty block, then `committed`, then `records`, each
 * once, as many as a block may hold (so the block's only fault is what is on chain); undefined
 * if there is nothing committed to add.
 */
function withCommitted (ctx: LiarContext, records: readonly LedgerRecord[], committed: readonly LedgerRecord[]): LedgerRecord[] | undefined {
  const old = ctx.chain.find(b => b.records.length > 0)?.records[0]
  const replayed = [...(old !== undefined ? [old] : []), ...committed]
  if (replayed.length === 0) return undefined
  const out = new Map<string, LedgerRecord>()
  for (const r of [...replayed, ...records]) out.set(idKey(recordId(r)), r)
  return [...out.values()].slice(0, ctx.maxRecords)
}

function equivocateProposal (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type !== 'proposal') return [all(ctx, message)]
  const p = message.proposal
  const other = { ...p.block, header: { ...p.block.header, time: p.block.header.time + 1 } }
  const second = signProposal(ctx, { height: p.height, round: p.round, validRound: -1, block: other })
  const [a, b] = split(ctx)
  return [
    { to: a, bytes: encodeMessage(message) },
    { to: b, bytes: encodeMessage({ type: 'proposal', proposal: second }) }
  ]
}

function doubleVote (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type !== 'vote') return [all(ctx, message)]
  const v = message.vote
  const conflicting = signVote(ctx, { ...v, blockHash: v.blockHash === null ? randomHash(ctx) : null })
  const [a, b] = split(ctx)
  const out: Outgoing[] = [
    { to: a, bytes: encodeMessage(message) },
    { to: b, bytes: encodeMessage({ type: 'vote', vote: conflicting }) }
  ]
  // Some peers get both, so equivocation is seen and must be recorded, not counted.
  if (ctx.rng.chance(0.5)) out.push({ to: [ctx.rng.pick(ctx.peers)], bytes: encodeMessage({ type: 'vote', vote: conflicting }) })
  return out
}

function badSignatures (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type !== 'vote') return [all(ctx, message)]
  const v = message.vote
  const flipped = Uint8Array.from(v.signature)
  const at = ctx.rng.int(0, flipped.length - 1)
  flipped[at] = (flipped[at] as number) ^ 0x01
  // A vote in another validator's name, signed with our own key.
  const impersonated = signVote(ctx, { ...v, validator: ctx.rng.pick(ctx.peers) })
  return [
    all(ctx, { type: 'vote', vote: { ...v, signature: flipped } }),
    all(ctx, { type: 'vote', vote: impersonated }),
    all(ctx, message)
  ]
}

function invalidProposal (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type !== 'proposal') return [all(ctx, message)]
  const p = message.proposal
  const h = p.block.header
  const records = p.block.records
  const kind = ctx.rng.int(0, 6)
  let block: Block
  switch (kind) {
    case 0: block = { ...p.block, header: { ...h, recordsRoot: randomHash(ctx) } }; break
    case 1: block = records.length > 0
      ? rebuild(ctx, p.block, [...records, records[0] as LedgerRecord])
      : { ...p.block, header: { ...h, recordCount: 1 } }
      break
    case 2: block = { ...p.block, header: { ...h, prevHash: randomHash(ctx) } }; break
    case 3: block = { ...p.block, header: { ...h, time: h.time + 3_600_000 } }; break
    case 4: block = ctx.oldRecord !== undefined ? rebuild(ctx, p.block, [...records, ctx.oldRecord]) : { ...p.block, header: { ...h, height: h.height + 1 } }; break
    case 5: {
      // A record that breaks the schema: the bytes are built by hand, signatures are valid.
      const bad = { ...p, block: { ...p.block, records: [...records, { v: 1, dataHash: new Uint8Array(7), meta: {}, service: 'x' }] } }
      return [{ to: ctx.peers, bytes: cborg.encode({ type: 'proposal', proposal: bad }) }]
    }
    default: block = { ...p.block, header: { ...h, proposer: (h.proposer + 1) % (ctx.peers.length + 1) } }
  }
  return [all(ctx, { type: 'proposal', proposal: signProposal(ctx, { height: p.height, round: p.round, validRound: p.validRound, block }) })]
}

function rebuild (ctx: LiarContext, block: Block, records: LedgerRecord[]): Block {
  const h = block.header
  return buildBlock(ctx.chainId, { height: h.height - 1, hash: h.prevHash, time: h.time }, h.proposer, h.time, records)
}

function lieAboutHeight (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type !== 'vote') return [all(ctx, message)]
  const v = message.vote
  const far = signVote(ctx, { ...v, height: v.height + ctx.rng.int(2, 1000) })
  const farRound = signVote(ctx, { ...v, round: v.round + ctx.rng.int(1, 40) })
  return [all(ctx, message), all(ctx, { type: 'vote', vote: far }), all(ctx, { type: 'vote', vote: farRound })]
}

function randomHash (ctx: LiarContext): Uint8Array {
  return Uint8Array.from({ length: 32 }, () => ctx.rng.int(0, 255))
}
