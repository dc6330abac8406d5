/** Run one seeded scenario from the command line, printing every event: `npm run sim:replay -- SEED`. */
import { generateScenario } from './scenario.js'
import { runScenario } from './simulator.js'

const seed = Number(process.argv[2])
if (!Number.isInteger(seed)) {
  console.error('usage: npm run sim:replay -- SEED [--broken-quorum]')
  process.exit(2)
}
const scenario = { ...generateScenario(seed), brokenQuorum: process.argv.includes('--broken-quorum') }
const result = runScenario(scenario, { traceAll: true })
console.log(JSON.stringify({ ...result, trace: undefined }, null, 2))
process.exit(result.ok ? 0 : 1)
