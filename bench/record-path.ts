/**
 * A bound measured in the same run as the cluster: the CPU one validator spends per record on the
 * work no design can spare it, in one process with nothing else running. A submit request of
 * 1000 records is decoded and checked, its ids are computed and looked up in the chain store,
 * the records enter a mempool and leave it as a block whose Merkle root is built, and the block is
 * committed to LevelDB (block, record index, tip), all through the node's own modules. No
 * network, no votes, no certificates: every validator does at least this for every record, so n
 * validators sharing c cores certify at most c / (n x this) records per second, however fast
 * the rest gets. CPU is the process's (every thread: LevelDB's writers and the garbage
 * collector's helpers count), not the wall clock.
 */
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decode, encode } from '../consensus/codec.js'
import { headerHash, recordId } from '../consensus/ids.js'
import { Mempool } from '../consensus/mempool.js'
import { merkleRoot } from '../consensus/merkle.js'
import { SubmitRequestSchema } from '../protocol/node-api.js'
import type { Block, Commit, LedgerRecord } from '../consensus/types.js'
import { ChainStore } from '../node/store/chain-store.js'

const RECORDS_PER_BATCH = 1000
/** Batches run before measuring: the code is compiled and the store has its first files. */
const WARMUP_BATCHES = 5

export interface RecordPathResult {
  /** CPU microseconds per record, every thread of the process. */
  usPerRecord: number
  records: number
}

/** Records shaped like the service's: a hash, a content type and a client time, one service id. */
function submitRequest (): Uint8Array {
  const hashes = randomBytes(32 * RECORDS_PER_BATCH)
  const meta = { contentType: 'application/octet-stream', clientTime: Date.now() }
  const records: LedgerRecord[] = Array.from({ length: RECORDS_PER_BATCH }, (_, i) => ({
    v: 1, dataHash: new Uint8Array(hashes.subarray(32 * i, 32 * i + 32)), meta, service: 'bench-service'
  }))
  return encode({ records })
}

function cpuMicros (): number {
  const { user, system } = process.cpuUsage()
  return user + system
}

/** Runs the record path for at least `durationMs` of CPU after a warm-up and returns its CPU per record. */
export async function recordPathCost (durationMs: number): Promise<RecordPathResult> {
  const dir = await mkdtemp(join(tmpdir(), 'trustnet-bench-path-'))
  const store = new ChainStore(dir)
  try {
    await store.open()
    await store.filterReady()
    const mempool = new Mempool(10 * RECORDS_PER_BATCH)
    let prevHash: Uint8Array = new Uint8Array(32)
    let height = 0
    let records = 0
    let started = 0
    /** CPU spent making requests: the service's work, not the validator's. */
    let making = 0
    for (let batch = 0; ; batch++) {
      if (batch === WARMUP_BATCHES) { started = cpuMicros(); making = 0 }
      if (batch > WARMUP_BATCHES && cpuMicros() - started - making >= durationMs * 1000) break
      const before = cpuMicros()
      // New records every time, as a service's are: none of them is on chain yet.
      const bytes = submitRequest()
      making += cpuMicros() - before
      const { records: submitted } = decode(SubmitRequestSchema, bytes, 4 * 1024 * 1024)
      const onChain = await store.onChain(submitted.map(recordId))
      mempool.addAll(submitted.filter((_, i) => onChain[i] !== true))
      const taken = mempool.take(RECORDS_PER_BATCH)
      const ids = taken.map(p => p.id)
      height++
      const block: Block = {
        header: { chainId: 'bench', height, prevHash, time: Date.now(), proposer: 0, recordsRoot: merkleRoot(ids), recordCount: taken.length },
        records: taken.map(p => p.record)
      }
      const hash = headerHash(block.header)
      const commit: Commit = { height, round: 0, blockHash: hash, signatures: [{ validator: 0, signature: new Uint8Array(64) }] }
      await store.commitBlock(block, commit, hash)
      mempool.removeCommitted(ids)
      prevHash = hash
      if (batch >= WARMUP_BATCHES) records += taken.length
    }
    return { usPerRecord: (cpuMicros() - started - making) / records, records }
  } finally {
    await store.close().catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  }
}
