/**
 * What lying validators send. A faulty validator runs the ordinary machine (so it knows the
 * protocol's state) and its outgoing messages are rewritten here, signed with its real key:
 * different proposals to different peers, conflicting votes, forged signatures, invalid blocks,
 * claims of heights it has not reached, blocks re-proposing entries already on chain, and blocks
 * holding submissions no registered service signed.
 */
import * as cborg from 'cborg'
import { buildBlock, type ChainTip } from '../../consensus/block.js'
import { defaultEd25519 } from '../../consensus/ed25519.js'
import { entryCount, packEntries, submissionSignBytes } from '../../consensus/entries.js'
import { headerHash, idKey } from '../../consensus/ids.js'
import { encodeMessage } from '../../consensus/messages.js'
import { proposalSignBytes, voteSignBytes } from '../../consensus/sign-bytes.js'
import type { Block, ConsensusMessage, Proposal, Submission, Vote } from '../../consensus/types.js'
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
  /** Entries a block may hold. */
  maxEntries: number
  /** Services registered in the genesis. */
  services: number
  /** The blocks this liar committed, in order. */
  chain: readonly Block[]
  /** A block proposed by anyone, by hash. */
  block: (hash: Uint8Array) => Block | undefined
  /** A submission this liar saw committed, to re-propose it (a duplicate on chain). */
  oldSubmission?: Submission
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
    case 'forging-proposer': return forgeSubmission(ctx, message)
  }
}

/**
 * Its proposals also hold submissions already on chain. And as soon as it precommits a block
 * while leading the next height, it proposes that next height with the block's submissions:
 * peers still deciding the first height buffer that proposal and judge it right after their commit.
 */
function replayCommitted (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type === 'proposal') {
    const p = message.proposal
    const last = ctx.chain[ctx.chain.length - 1]
    const replayed = withCommitted(ctx, p.block.submissions, last?.submissions ?? [])
    if (replayed === undefined || p.validRound !== -1) return [all(ctx, message)]
    const block = rebuild(ctx, p.block, replayed)
    return [all(ctx, { type: 'proposal', proposal: signProposal(ctx, { height: p.height, round: p.round, validRound: -1, block }) })]
  }
  const v = message.type === 'vote' ? message.vote : undefined
  if (v === undefined || v.type !== 'precommit' || v.blockHash === null || (v.height + 1) % ctx.n !== ctx.index) return [all(ctx, message)]
  const deciding = ctx.block(v.blockHash)
  const replayed = deciding === undefined ? undefined : withCommitted(ctx, [], deciding.submissions)
  if (deciding === undefined || replayed === undefined) return [all(ctx, message)]
  const tip: ChainTip = { height: v.height, hash: v.blockHash, time: deciding.header.time }
  const block = buildBlock({ chainId: ctx.chainId, genesisHash: deciding.header.genesisHash }, tip, ctx.index, deciding.header.time, replayed)
  const early = signProposal(ctx, { height: v.height + 1, round: 0, validRound: -1, block })
  return [all(ctx, message), all(ctx, { type: 'proposal', proposal: early })]
}

/**
 * The first submission of the liar's oldest non-empty block, then `committed`, then `pending`,
 * each once, as many whole ones as a block may hold (so the block's only fault is what is on
 * chain); undefined if there is nothing committed to add.
 */
function withCommitted (ctx: LiarContext, pending: readonly Submission[], committed: readonly Submission[]): Submission[] | undefined {
  const old = ctx.chain.find(b => b.submissions.length > 0)?.submissions[0]
  const replayed = [...(old !== undefined ? [old] : []), ...committed]
  if (replayed.length === 0) return undefined
  const out = new Map<string, Submission>()
  for (const s of [...replayed, ...pending]) out.set(idKey(s.signature), s)
  return fitting(ctx, [...out.values()])
}

/** The leading whole submissions of `submissions` that a block can hold together. */
function fitting (ctx: LiarContext, submissions: readonly Submission[]): Submission[] {
  const out: Submission[] = []
  let room = ctx.maxEntries
  for (const s of submissions) {
    if (entryCount(s) > room) break
    out.push(s)
    room -= entryCount(s)
  }
  return out
}

/**
 * Its fresh proposals also hold a submission of made-up entries that no registered service
 * signed: a random signature, one by the liar's own key, one of another service, or a real
 * submission claimed for another service's index. Only the block's signature is valid.
 */
function forgeSubmission (ctx: LiarContext, message: ConsensusMessage): Outgoing[] {
  if (message.type !== 'proposal' || message.proposal.validRound !== -1) return [all(ctx, message)]
  const p = message.proposal
  const entries = packEntries([randomHash(ctx), randomHash(ctx)])
  const real = p.block.submissions[0] ?? ctx.oldSubmission
  const kind = ctx.rng.int(0, real !== undefined ? 3 : 2)
  let forged: Submission
  switch (kind) {
    case 0: forged = { service: 0, entries, signature: Uint8Array.from({ length: 64 }, () => ctx.rng.int(0, 255)) }; break
    case 1: forged = { service: 0, entries, signature: ed.sign(ctx.seed, submissionSignBytes(ctx.chainId, 0, entries)) }; break
    case 2: forged = { service: ctx.services, entries, signature: ed.sign(ctx.seed, submissionSignBytes(ctx.chainId, ctx.services, entries)) }; break
    default: {
      const s = real as Submission
      forged = { ...s, service: (s.service + 1) % ctx.services }
    }
  }
  // The forged submission first, so the block's only fault is it: the rest stays within the block's bound.
  const submissions = fitting(ctx, [forged, ...p.block.submissions.filter(s => s !== real || kind !== 3)])
  const block = rebuild(ctx, p.block, submissions)
  return [all(ctx, { type: 'proposal', proposal: signProposal(ctx, { height: p.height, round: p.round, validRound: -1, block }) })]
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
  const submissions = p.block.submissions
  const kind = ctx.rng.int(0, 6)
  let block: Block
  switch (kind) {
    case 0: block = { ...p.block, header: { ...h, entriesRoot: randomHash(ctx) } }; break
    case 1: block = submissions.length > 0
      ? rebuild(ctx, p.block, [...submissions, submissions[0] as Submission])
      : { ...p.block, header: { ...h, entryCount: 1 } }
      break
    case 2: block = { ...p.block, header: { ...h, prevHash: randomHash(ctx) } }; break
    case 3: block = { ...p.block, header: { ...h, time: h.time + 3_600_000 } }; break
    case 4: block = ctx.oldSubmission !== undefined ? rebuild(ctx, p.block, [...submissions, ctx.oldSubmission]) : { ...p.block, header: { ...h, height: h.height + 1 } }; break
    case 5: {
      // A submission that breaks the schema (an entry of 31 bytes): the bytes are built by hand, signatures are valid.
      const bad = { ...p, block: { ...p.block, submissions: [...submissions, { service: 0, entries: new Uint8Array(31), signature: new Uint8Array(64) }] } }
      return [{ to: ctx.peers, bytes: cborg.encode({ type: 'proposal', proposal: bad }) }]
    }
    default: block = { ...p.block, header: { ...h, proposer: (h.proposer + 1) % (ctx.peers.length + 1) } }
  }
  return [all(ctx, { type: 'proposal', proposal: signProposal(ctx, { height: p.height, round: p.round, validRound: p.validRound, block }) })]
}

function rebuild (ctx: LiarContext, block: Block, submissions: Submission[]): Block {
  const h = block.header
  return buildBlock({ chainId: ctx.chainId, genesisHash: h.genesisHash }, { height: h.height - 1, hash: h.prevHash, time: h.time }, h.proposer, h.time, submissions)
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
