/**
 * A load-client process (forked by client-pool.ts, never run by hand): it takes phases from the
 * bench over IPC, runs each against the service and sends back the result. Load comes from here
 * rather than from the bench process so the measuring process is not the one saturated. It exits
 * when the bench goes away.
 */
import type { Command } from './load-protocol.js'
import { runPhase } from './load-phases.js'

let stopRequested = false

process.on('message', (message: Command) => {
  if (message.type === 'stop') { stopRequested = true; return }
  stopRequested = false
  runPhase(message.target, message.phase, () => stopRequested).then(
    result => process.send?.({ ok: true, result }),
    (err: unknown) => process.send?.({ ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) })
  )
})
// The bench died or closed the channel: nothing left to do.
process.on('disconnect', () => process.exit(0))
