/** Run a range of seeds and print failures and timing: `node dist/test/sim/run-many.js FROM TO`. */
import { generateScenario } from './scenario.js'
import { runScenario } from './simulator.js'

const from = Number(process.argv[2] ?? 1)
const to = Number(process.argv[3] ?? 100)
const broken = process.argv.includes('--broken-quorum')
const started = performance.now()
let failed = 0
for (let seed = from; seed <= to; seed++) {
  const t = performance.now()
  const result = runScenario({ ...generateScenario(seed), brokenQuorum: broken })
  const ms = performance.now() - t
  if (!result.ok) {
    failed++
    console.log(`FAIL ${result.scenario}\n  ${result.failure}`)
  } else if (ms > 1000) console.log(`slow ${Math.round(ms)}ms ${result.scenario}`)
}
console.log(`${to - from + 1} seeds, ${failed} failed, ${Math.round(performance.now() - started)} ms`)
