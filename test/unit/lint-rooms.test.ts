import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

// The lint table (ROOMS in eslint.config.js) is the only thing holding the one-way doors: these
// cases lint a made-up file in a room and check that a wrong-way import is refused by name.
const eslint = new ESLint({ cwd: process.cwd() })

async function roomErrors (filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return (result?.messages ?? []).filter(m => m.ruleId === 'trustnet/room-imports').map(m => m.message)
}

describe('lint: rooms import only downwards', () => {
  it.each([
    ['node/probe.ts', "import { startService } from '../service/main.js'\nexport const x = startService", 'node/ may not import service/'],
    ['service/probe.ts', "import { startNode } from '../node/node.js'\nexport const x = startNode", 'service/ may not import node/'],
    ['consensus/probe.ts', "import { ChainStore } from '../node/store/chain-store.js'\nexport const x = ChainStore", 'consensus/ may not import node/'],
    ['net/probe.ts', "import { Machine } from '../consensus/machine.js'\nexport const x = Machine", 'net/ may not import consensus/'],
    ['lib/probe.ts', "import { Machine } from '../consensus/machine.js'\nexport const x = Machine", 'lib/ may not import consensus/'],
    ['client/probe.ts', "import { createHost } from '../net/host.js'\nexport const x = createHost", 'client/ may not import net/'],
    ['node/probe.ts', "import { runCluster } from '../cli/cluster.js'\nexport const x = runCluster", 'node/ may not import cli/'],
    ['cli/probe.ts', "export { x } from '../bench/run.js'", 'cli/ may not import bench/'],
    ['bench/probe.ts', "const m = await import('../test/helpers/fixtures.js')\nexport const x = m", 'bench/ may not import test/']
  ])('%s: %s is refused', async (file, code, message) => {
    expect(await roomErrors(file, code)).toEqual([expect.stringContaining(message)])
  })

  it('refuses a Node-bound lib/ file in a pure room', async () => {
    expect(await roomErrors('consensus/probe.ts', "import { createLogger } from '../lib/log.js'\nexport const x = createLogger"))
      .toEqual([expect.stringContaining('consensus/ is pure')])
  })

  it.each([
    ['node/probe.ts', "import { Machine } from '../consensus/machine.js'\nimport { createHost } from '../net/host.js'\nexport const x = [Machine, createHost]"],
    ['service/probe.ts', "import { PROTOCOL } from '../protocol/node-api.js'\nexport const x = PROTOCOL"],
    ['cli/probe.ts', "import { startNode } from '../node/node.js'\nimport { startService } from '../service/main.js'\nexport const x = [startNode, startService]"],
    ['consensus/probe.ts', "import { uint64BE } from '../lib/bytes.js'\nexport const x = uint64BE"]
  ])('%s: an allowed import passes', async (file, code) => {
    expect(await roomErrors(file, code)).toEqual([])
  })
})
