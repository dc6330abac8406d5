/**
 * The validator's read-only JSON routes the explorer reads, asked of the origin that served the
 * page (relative URLs, so the page works at / and /explorer alike). Each answer is typed as the
 * validator sends it; every failure (no answer, an error status, a body that is not JSON) is an
 * ExplorerApiError with a stable code, so each panel can say what went wrong.
 */
import { CodedError } from '../lib/errors.js'

export type ExplorerApiCode = 'UNREACHABLE' | 'NOT_FOUND' | 'INVALID_FIELD' | 'BAD_ANSWER' | 'SERVER_ERROR'

export class ExplorerApiError extends CodedError<ExplorerApiCode> {
  override readonly name = 'ExplorerApiError'
}

export interface ValidatorInfo { index: number, name: string, publicKey: string, peerId: string, connected: boolean }
export interface ServiceInfo { index: number, name: string, publicKey: string }

/** GET /status */
export interface NodeStatus {
  chainId: string
  validator: number
  peerId: string
  height: number
  lastBlockHash: string
  lastBlockTime: number
  round: number
  step: string
  leader: number
  mempool: number
  peers: string[]
  validators: ValidatorInfo[]
  services: ServiceInfo[]
}

/** One block of GET /blocks?latest=N */
export interface BlockSummary {
  height: number
  hash: string
  time: number
  proposer: number
  entryCount: number
  submissions: number
  round: number
  /** Validators whose precommit signatures seal the block, ascending. */
  signers: number[]
}

export interface LatestBlocks { height: number, blocks: BlockSummary[] }

/** GET /entries/:entry */
export interface EntryPlace { entry: string, height: number, index: number, service: number, blockHash: string }

/** GET `path` (relative to the page) as JSON; throws ExplorerApiError. */
export async function getJson<T> (path: string, signal?: AbortSignal): Promise<T> {
  let res: Response
  try {
    res = await fetch(path, { headers: { accept: 'application/json' }, ...(signal !== undefined ? { signal } : {}) })
  } catch (err) {
    throw new ExplorerApiError('UNREACHABLE', 'the validator did not answer', { path }, { cause: err })
  }
  let body: unknown
  try {
    body = await res.json()
  } catch (err) {
    throw new ExplorerApiError('BAD_ANSWER', `the validator's answer to ${path} is not JSON`, { path, status: res.status }, { cause: err })
  }
  if (res.ok) return body as T
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message
  const text = typeof message === 'string' ? message : `HTTP ${res.status}`
  const code: ExplorerApiCode = res.status === 404 ? 'NOT_FOUND' : res.status === 400 ? 'INVALID_FIELD' : 'SERVER_ERROR'
  throw new ExplorerApiError(code, text, { path, status: res.status })
}

export const fetchStatus = async (signal?: AbortSignal): Promise<NodeStatus> => await getJson<NodeStatus>('status', signal)
export const fetchLatestBlocks = async (n: number, signal?: AbortSignal): Promise<LatestBlocks> => await getJson<LatestBlocks>(`blocks?latest=${n}`, signal)
export const fetchGenesis = async (): Promise<unknown> => await getJson<unknown>('genesis')
export const fetchEntry = async (entry: string): Promise<EntryPlace> => await getJson<EntryPlace>(`entries/${entry}`)
