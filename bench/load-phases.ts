/**
 * What a load client does in each phase (see load-protocol.ts): closed loops that keep a fixed
 * number of requests in flight, and open loops that send on a schedule whatever the answers (so
 * latency is not hidden by waiting, measured from the scheduled time): the latency phase's, and
 * the soak's mixed load of documents and hashes. Each runner fills one PhaseResult.
 */
import { randomBytes } from 'node:crypto'
import { emptyResult, type Phase, type PhaseResult, type Target, type Window } from './load-protocol.js'
import { anchorBatch, anchorHash, health, randomHash, randomHashes, storeDocument, verifyDocument } from './service-requests.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, Math.max(0, ms))) }
/** After a failed request a worker pauses this long, so a refusing service is not hammered in a tight loop. */
const FAILURE_PAUSE_MS = 50
/** A paced request sent later than this after its scheduled time counts as late (see PhaseResult.lateSends). */
const LATE_SEND_MS = 50

function fail (r: PhaseResult, error: unknown): void {
  r.failures++
  r.firstFailure ??= error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

/** `concurrency` workers each running `step` until `until` (epoch ms) or until `stop()` says so. */
async function closedLoop (concurrency: number, r: PhaseResult, until: number, stop: () => boolean, step: (worker: number) => Promise<void>): Promise<void> {
  await Promise.all(Array.from({ length: concurrency }, async (_, worker) => {
    while (Date.now() < until && !stop()) {
      try {
        await step(worker)
      } catch (err) {
        fail(r, err)
        await sleep(FAILURE_PAUSE_MS)
      }
    }
  }))
}

/**
 * Count `units` completed by a request that ran from `sentAt` until now, spread evenly over its
 * lifetime, for the part of it inside the window. A batch answer certifies a thousand records at
 * once: counting them all at the instant they arrive would make a short window's figure jump by
 * whole batches, while spreading them has the same mean and little of that noise.
 */
function credit (r: PhaseResult, w: Window, sentAt: number, units: number): void {
  const doneAt = Date.now()
  const overlap = Math.min(doneAt, w.measureTo) - Math.max(sentAt, w.measureFrom)
  if (doneAt === sentAt) r.inWindow += doneAt >= w.measureFrom && doneAt <= w.measureTo ? units : 0
  else if (overlap > 0) r.inWindow += units * overlap / (doneAt - sentAt)
}

function keep (r: PhaseResult, limit: number, certificate: unknown): void {
  if (r.certificates.length < limit && certificate !== undefined) r.certificates.push(certificate)
}

async function single (target: Target, p: Extract<Phase, { kind: 'single' }>, stop: () => boolean): Promise<PhaseResult> {
  const r = emptyResult('single')
  await sleep(p.window.startAt - Date.now())
  await closedLoop(p.concurrency, r, p.window.measureTo, stop, async () => {
    const sentAt = Date.now()
    // Answered once stored; the service certifies in the background, its counters tell how fast.
    const a = await anchorHash(target, randomHash(), { wait: false })
    r.requests++
    if (a.status !== 202 && a.status !== 201) throw new Error(a.error ?? `status ${a.status}`)
    r.ok++
    credit(r, p.window, sentAt, 1)
  })
  return r
}

async function batch (target: Target, p: Extract<Phase, { kind: 'batch' }>, stop: () => boolean): Promise<PhaseResult> {
  const r = emptyResult('batch')
  await sleep(p.window.startAt - Date.now())
  await closedLoop(p.concurrency, r, p.window.measureTo, stop, async () => {
    const hashes = randomHashes(p.batchSize)
    const sentAt = Date.now()
    const a = await anchorBatch(target, hashes)
    r.requests++
    if (a.status !== 201 && a.status !== 202) throw new Error(a.error ?? `status ${a.status}`)
    const certified = a.items.filter(i => i.certificate !== undefined)
    r.ok += certified.length
    r.pending += a.items.length - certified.length
    credit(r, p.window, sentAt, certified.length)
    for (const item of certified) keep(r, p.keepCertificates, item.certificate)
  })
  return r
}

/**
 * When the `i`-th request of a paced phase is due: the rate rises evenly from zero to `ratePerS`
 * over the ramp, then holds. A jump from idle to the full rate would measure how the pipeline
 * (outbox rounds, blocks) starts up, not the latency at this rate.
 */
export function pacedDueAt (p: Pick<Extract<Phase, { kind: 'paced' }>, 'ratePerS' | 'startAt' | 'rampUntil'>, i: number): number {
  const perMs = p.ratePerS / 1000
  const rampMs = Math.max(0, p.rampUntil - p.startAt)
  // Requests sent during the ramp: the area under the rising rate.
  const inRamp = perMs * rampMs / 2
  if (i < inRamp) return p.startAt + Math.sqrt(2 * i * rampMs / perMs)
  return p.startAt + rampMs + (i - inRamp) / perMs
}

/**
 * Send `send(i, due)` on the schedule of `pacedDueAt` until `end` (epoch ms) or `stop()`, whatever
 * the answers; returns once every request sent has been answered. A request due while
 * `maxInFlight` are outstanding is not sent (counted as dropped).
 */
async function openLoop (p: Pick<Extract<Phase, { kind: 'paced' }>, 'ratePerS' | 'startAt' | 'rampUntil' | 'measureFrom' | 'maxInFlight'>, end: number, r: PhaseResult, stop: () => boolean, send: (i: number, due: number) => Promise<void>): Promise<void> {
  const inFlight = new Set<Promise<void>>()
  let yieldedAt = Date.now()
  for (let i = 0; !stop(); i++) {
    const due = pacedDueAt(p, i)
    if (due >= end) break
    // The schedule's own timing: the one place the load waits for the clock, not for a condition.
    // A timer fires no sooner than a millisecond: every request already due is sent on waking.
    const now = Date.now()
    if (due > now) {
      await sleep(due - now)
      yieldedAt = Date.now()
      // Stopped while asleep: a request due after the stop is not part of the run.
      if (stop()) break
    } else {
      if (now - due > LATE_SEND_MS && due >= p.measureFrom) r.lateSends++
      // Catching up must not starve the answers: let them in now and then.
      if (now - yieldedAt > LATE_SEND_MS) { await new Promise(resolve => setImmediate(resolve)); yieldedAt = Date.now() }
    }
    if (inFlight.size >= p.maxInFlight) { r.dropped++; continue }
    const request = send(i, due).catch((err: unknown) => { fail(r, err) })
    inFlight.add(request)
    void request.finally(() => inFlight.delete(request))
  }
  await Promise.all(inFlight)
}

async function paced (target: Target, p: Extract<Phase, { kind: 'paced' }>, stop: () => boolean): Promise<PhaseResult> {
  const r = emptyResult('paced')
  await openLoop(p, p.startAt + p.durationMs, r, stop, async (_, due) => {
    const a = await anchorHash(target, randomHash())
    r.requests++
    if (a.status === 201 && a.certificate !== undefined) {
      r.ok++
      if (due >= p.measureFrom) r.latenciesMs.push(Date.now() - due)
      keep(r, p.keepCertificates, a.certificate)
    } else if (a.status === 202) r.pending++
    else fail(r, new Error(a.error ?? `status ${a.status}`))
  })
  return r
}

/**
 * Open `count` connections at once: each request in flight holds its own connection, and the
 * client's connection pool keeps them open for later requests. The service accepts one new
 * connection per turn of its event loop (Node's behaviour), so connections opened in a burst
 * under load wait in its accept queue for seconds: opened here, before the paced phase, they
 * are ready when its requests come.
 */
async function connect (target: Target, p: Extract<Phase, { kind: 'connect' }>): Promise<PhaseResult> {
  const r = emptyResult('connect')
  await Promise.all(Array.from({ length: p.count }, async () => {
    try {
      const a = await health(target)
      r.requests++
      if (a.status === 200) r.ok++
      else fail(r, new Error(a.error ?? `status ${a.status}`))
    } catch (err) {
      fail(r, err)
    }
  }))
  return r
}

async function store (target: Target, p: Extract<Phase, { kind: 'store' }>, stop: () => boolean): Promise<PhaseResult> {
  const r = emptyResult('store')
  let next = 0
  await closedLoop(p.concurrency, r, Number.POSITIVE_INFINITY, () => stop() || next >= p.count, async () => {
    const n = next++
    const a = await storeDocument(target, randomBytes(p.bytes), `bench-${process.pid}-${n}`)
    r.requests++
    if (a.status === 201 && a.id !== undefined) { r.ok++; r.ids.push(a.id) } else if (a.status === 202) r.pending++
    else throw new Error(a.error ?? `status ${a.status}`)
  })
  return r
}

async function verify (target: Target, p: Extract<Phase, { kind: 'verify' }>, stop: () => boolean): Promise<PhaseResult> {
  const r = emptyResult('verify')
  if (p.ids.length === 0) return r
  let next = 0
  await sleep(p.window.startAt - Date.now())
  await closedLoop(p.concurrency, r, p.window.measureTo, stop, async () => {
    const sentAt = Date.now()
    const v = await verifyDocument(target, p.ids[next++ % p.ids.length] as string)
    r.requests++
    if (v.status !== 200 || !v.intact) throw new Error(v.error ?? `status ${v.status}, intact ${v.intact}`)
    r.ok++
    credit(r, p.window, sentAt, 1)
  })
  return r
}

async function soak (target: Target, p: Extract<Phase, { kind: 'soak' }>, stop: () => boolean): Promise<PhaseResult> {
  const r = emptyResult('soak')
  await openLoop({ ...p, measureFrom: p.rampUntil }, Number.POSITIVE_INFINITY, r, stop, async (i, due) => {
    // Counted when sent: requests + dropped is what the schedule offered.
    r.requests++
    // Half documents (kept by the service, verifiable later), half bare hashes.
    const a = i % 2 === 0
      ? await storeDocument(target, randomBytes(64 + (i % 512)), `soak-${process.pid}-${i}`)
      : await anchorHash(target, randomHash())
    if (a.status === 201 && a.id !== undefined && a.certificate !== undefined) {
      r.ok++
      if (due >= p.rampUntil) r.latenciesMs.push(Date.now() - due)
      r.ids.push(a.id)
      r.certified.push(a.certificate)
    } else if (a.status === 202) r.pending++
    else fail(r, new Error(a.error ?? `status ${a.status}`))
  })
  return r
}

export async function runPhase (target: Target, phase: Phase, stop: () => boolean): Promise<PhaseResult> {
  switch (phase.kind) {
    case 'single': return await single(target, phase, stop)
    case 'batch': return await batch(target, phase, stop)
    case 'paced': return await paced(target, phase, stop)
    case 'connect': return await connect(target, phase)
    case 'store': return await store(target, phase, stop)
    case 'verify': return await verify(target, phase, stop)
    case 'soak': return await soak(target, phase, stop)
  }
}
