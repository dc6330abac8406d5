/**
 * The explorer page: what the validator that serves it sees of the network (the validators and
 * whether it is connected to each, height, round, leader, the latest blocks and which validators
 * sealed each), where an entry sits, and a file checked against its certificate in the browser.
 * Status is polled once a second, the blocks again when the height moves; the genesis is fetched
 * once, and checking a file asks no server anything.
 */
import { z } from 'zod'
import { ExplorerApiError, fetchEntry, fetchGenesis, fetchLatestBlocks, fetchStatus, type BlockSummary, type NodeStatus } from './api.js'
import { checkFile, readGenesis, type FileVerdict } from './check-file.js'
import { age, byId, facts, h, replace, setState, short, utc } from './dom.js'
import type { Genesis } from '../consensus/types.js'

// The page's policy forbids eval: zod must not try compiling its checks.
z.config({ jitless: true })

const POLL_MS = 1000
const LATEST = 10
const ENTRY_HEX = /^[0-9a-f]{64}$/

const messageOf = (err: unknown): string => err instanceof Error ? err.message : String(err)

// ---- network and blocks -------------------------------------------------------------------

let status: NodeStatus | undefined
let blocksHeight = -1

function nameOf (index: number): string {
  return status?.validators[index]?.name ?? `#${index}`
}

function renderStatus (s: NodeStatus, now: number): void {
  byId('served-by').textContent = `chain ${s.chainId} · served by ${nameOf(s.validator)}`
  byId('height').textContent = String(s.height)
  byId('round').textContent = String(s.round)
  byId('step').textContent = s.step
  byId('leader').textContent = nameOf(s.leader)
  byId('mempool').textContent = String(s.mempool)
  byId('last-block').textContent = s.height === 0 ? 'none yet' : age(s.lastBlockTime, now)
  const up = s.validators.filter(v => v.connected).length
  setState(byId('network-state'), `${up} of ${s.validators.length} validators up, as ${nameOf(s.validator)} sees them.`)
  const rows = s.validators.map(v => {
    const self = v.index === s.validator
    const state = h('span', { class: `badge ${v.connected ? 'up' : 'down'}`, data: { state: v.connected ? 'up' : 'down' } }, self ? 'this validator' : v.connected ? 'up' : 'down')
    const name = h('td', {}, v.name, ...(v.index === s.leader ? [' ', h('span', { class: 'badge leader' }, 'leader')] : []))
    return h('tr', { data: { validator: String(v.index) } }, h('td', {}, String(v.index)), name, h('td', {}, state), h('td', {}, short(v.peerId, 10)))
  })
  replace(byId('validators').querySelector('tbody') as HTMLElement, ...rows)
}

function renderBlocks (blocks: BlockSummary[], validators: number): void {
  const state = byId('blocks-state')
  const body = byId('blocks').querySelector('tbody') as HTMLElement
  if (blocks.length === 0) {
    setState(state, 'No blocks yet: the chain is at its genesis. Blocks appear here as entries are anchored.')
    replace(body)
    return
  }
  setState(state, '')
  replace(body, ...blocks.map(b => {
    const signed = new Set(b.signers)
    const signers = Array.from({ length: validators }, (_, i) => h('span', { class: `badge ${signed.has(i) ? 'up' : 'missing'}`, title: signed.has(i) ? 'signed the commit' : 'no signature in the commit' }, nameOf(i)))
    return h('tr', { data: { height: String(b.height) } },
      h('td', {}, String(b.height)), h('td', {}, utc(b.time)), h('td', { class: 'entries' }, String(b.entryCount)),
      h('td', {}, nameOf(b.proposer)), h('td', {}, String(b.round)),
      h('td', {}, h('span', { class: 'muted' }, `${b.signers.length}/${validators} `), ...signers), h('td', { class: 'hash' }, short(b.hash)))
  }))
}

async function poll (): Promise<void> {
  try {
    const s = await fetchStatus(AbortSignal.timeout(5000))
    status = s
    renderStatus(s, Date.now())
    if (s.height !== blocksHeight) {
      try {
        const latest = await fetchLatestBlocks(LATEST, AbortSignal.timeout(5000))
        blocksHeight = s.height
        renderBlocks(latest.blocks, s.validators.length)
      } catch (err) {
        setState(byId('blocks-state'), `Cannot load the latest blocks: ${messageOf(err)}. Retrying.`, true)
      }
    }
  } catch (err) {
    setState(byId('network-state'), `Cannot reach this validator: ${messageOf(err)}. Retrying every second.`, true)
    if (status === undefined) setState(byId('blocks-state'), 'Waiting for the validator.', true)
  } finally {
    setTimeout(() => { void poll() }, POLL_MS)
  }
}

// ---- find an entry ------------------------------------------------------------------------

async function findEntry (raw: string): Promise<void> {
  const out = byId('entry-result')
  const entry = raw.trim().toLowerCase()
  if (!ENTRY_HEX.test(entry)) {
    replace(out, h('p', { class: 'state error', data: { found: 'invalid' } }, 'An entry id is 64 hexadecimal characters (32 bytes).'))
    return
  }
  replace(out, h('p', { class: 'state' }, 'Looking it up…'))
  try {
    const at = await fetchEntry(entry)
    const service = status?.services[at.service]?.name ?? `#${at.service}`
    replace(out, h('div', { class: 'verdict valid', data: { found: 'yes' } },
      h('strong', {}, `On chain at height ${at.height}, index ${at.index}`),
      facts([['entry', h('span', { class: 'mono' }, at.entry)], ['block height', String(at.height)], ['index in block', String(at.index)], ['submitted by', service], ['block hash', h('span', { class: 'mono' }, at.blockHash)]])))
  } catch (err) {
    if (err instanceof ExplorerApiError && err.code === 'NOT_FOUND') {
      replace(out, h('div', { class: 'verdict invalid', data: { found: 'no' } }, h('strong', {}, 'Not on chain'), h('p', {}, `This validator holds no entry ${entry}. A newly stored item appears once its block is committed.`)))
    } else {
      replace(out, h('p', { class: 'state error', data: { found: 'error' } }, `Cannot look it up: ${messageOf(err)}`))
    }
  }
}

// ---- check a file -------------------------------------------------------------------------

let genesis: Promise<Genesis> | undefined
const chosen: { file?: File, certificate?: File } = {}

/** The genesis, fetched once from this validator; a failed fetch is tried again on the next check. */
function loadGenesis (): Promise<Genesis> {
  genesis ??= fetchGenesis().then(json => readGenesis(json as object))
  genesis.catch(() => { genesis = undefined })
  return genesis
}

function renderVerdict (v: FileVerdict, file: File): HTMLElement {
  if (!v.valid) {
    return h('div', { class: 'verdict invalid', data: { verdict: 'invalid', reason: v.reason } },
      h('strong', {}, `Invalid: ${v.reason}`), h('p', {}, v.message), facts([['file', file.name], ["file's SHA-256", h('span', { class: 'mono' }, v.fileHash)]]))
  }
  return h('div', { class: 'verdict valid', data: { verdict: 'valid' } },
    h('strong', {}, 'Valid: this file is the one the certificate certifies'),
    facts([
      ['file', file.name],
      ['SHA-256', h('span', { class: 'mono' }, v.fileHash)],
      ['recorded name', v.name],
      ['size', v.size === undefined ? undefined : `${v.size} bytes`],
      ['content type', v.contentType],
      ['anchored by', v.service],
      ['entry', h('span', { class: 'mono' }, v.entry)],
      ['block', `${v.height}, ${utc(v.time)} UTC`],
      ['sealed by', v.signers.join(', ')]
    ]))
}

/** Each check in turn: a slower earlier one must not overwrite the verdict of a later one. */
let checks = 0

async function runCheck (): Promise<void> {
  const out = byId('check-result')
  const { file, certificate } = chosen
  const mine = ++checks
  const show = (el: HTMLElement): void => { if (mine === checks) replace(out, el) }
  if (file === undefined || certificate === undefined) {
    show(h('p', { class: 'state' }, file === undefined ? 'Now choose the file the certificate is for.' : 'Now choose its certificate (FILE.trustnet.json).'))
    return
  }
  show(h('p', { class: 'state' }, `Hashing ${file.name} and checking its certificate…`))
  let root: Genesis
  try {
    root = await loadGenesis()
  } catch (err) {
    show(h('p', { class: 'state error', data: { verdict: 'error' } }, `Cannot get the network's genesis from this validator: ${messageOf(err)}`))
    return
  }
  try {
    const [data, text] = await Promise.all([file.arrayBuffer(), certificate.text()])
    show(renderVerdict(await checkFile(root, new Uint8Array(data), text), file))
  } catch (err) {
    show(h('p', { class: 'state error', data: { verdict: 'error' } }, `Cannot read the files: ${messageOf(err)}`))
  }
}

/** Shows `file` in `input` as if chosen there. */
function showIn (input: HTMLInputElement, file: File): void {
  const list = new DataTransfer()
  list.items.add(file)
  input.files = list.files
}

/** Dropped files: a `.trustnet.json` (or, of two, the `.json` one) is the certificate, the other the file. */
function takeDropped (files: File[]): void {
  const isCert = (f: File): boolean => f.name.endsWith('.trustnet.json') || (files.length === 2 && f.name.endsWith('.json') && !files.every(g => g.name.endsWith('.json')))
  for (const f of files.slice(0, 2)) {
    if (isCert(f)) {
      chosen.certificate = f
      showIn(byId<HTMLInputElement>('cert-input'), f)
    } else {
      chosen.file = f
      showIn(byId<HTMLInputElement>('file-input'), f)
    }
  }
  void runCheck()
}

// ---- wiring -------------------------------------------------------------------------------

function start (): void {
  byId<HTMLFormElement>('entry-form').addEventListener('submit', e => {
    e.preventDefault()
    void findEntry(byId<HTMLInputElement>('entry-input').value)
  })
  const fileInput = byId<HTMLInputElement>('file-input')
  const certInput = byId<HTMLInputElement>('cert-input')
  fileInput.addEventListener('change', () => { chosen.file = fileInput.files?.[0]; void runCheck() })
  certInput.addEventListener('change', () => { chosen.certificate = certInput.files?.[0]; void runCheck() })
  const zone = byId('drop-zone')
  zone.addEventListener('dragover', e => { e.preventDefault(); zone.classList.add('over') })
  zone.addEventListener('dragleave', () => { zone.classList.remove('over') })
  zone.addEventListener('drop', e => {
    e.preventDefault()
    zone.classList.remove('over')
    takeDropped([...(e.dataTransfer?.files ?? [])])
  })
  void poll()
  // Fetched now, while the validator is surely there; a failure is tried again at the first check.
  loadGenesis().catch(() => undefined)
}

start()
