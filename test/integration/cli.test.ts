import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CLI_PATH } from '../../cli/cluster.js'
import { genesisFingerprint } from '../../consensus/genesis-fingerprint.js'
import { genesisFromJson } from '../../consensus/json.js'

// The compiled command, as users run it (npm test builds it first): the exit codes are its contract.
const exec = promisify(execFile)
const run = async (args: string[]): Promise<{ code: number, stdout: string, stderr: string }> =>
  await exec(process.execPath, [CLI_PATH, ...args]).then(
    r => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (err: { code: number, stdout: string, stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }))

describe('the trustnet command', () => {
  it('--version prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: `${version}\n` })
  })

  it('--help lists every subcommand and exits 0', async () => {
    const { code, stdout } = await run(['--help'])
    expect(code).toBe(0)
    for (const command of ['init', 'node', 'service', 'cluster', 'compose', 'netsim', 'verify-certificate']) expect(stdout).toContain(`  ${command} `)
  })

  it.each([
    [['no-such-command'], 'an unknown command'],
    [['init', '--out', '/tmp/x'], 'a missing required option'],
    [['init', '--validators', 'many', '--out', '/tmp/x'], 'a malformed option value'],
    [['verify-certificate'], 'a missing argument']
  ])('%j (%s) is a usage error: exit 2, never 1, which means "invalid"', async (args) => {
    const { code, stderr } = await run(args)
    expect(code).toBe(2)
    expect(stderr).toMatch(/error/)
  })

  it('genesis --show prints a genesis file\'s fingerprint; init prints its new network\'s', async () => {
    const vectors = fileURLToPath(new URL('../vectors/genesis.json', import.meta.url))
    const fingerprint = genesisFingerprint(genesisFromJson(JSON.parse(readFileSync(vectors, 'utf8'))))
    expect(await run(['genesis', '--show', vectors])).toMatchObject({ code: 0, stdout: `${fingerprint}\n` })
    expect(JSON.parse((await run(['genesis', '--show', vectors, '--json'])).stdout)).toMatchObject({ chainId: 'trustnet-test', fingerprint })
    const out = mkdtempSync(join(tmpdir(), 'trustnet-init-'))
    try {
      const init = await run(['init', '--validators', '1', '--out', out, '--force'])
      expect(init.code, init.stderr).toBe(0)
      const made = genesisFromJson(JSON.parse(readFileSync(join(out, 'genesis.json'), 'utf8')))
      expect(init.stdout).toContain(`genesis fingerprint: ${genesisFingerprint(made)}\n`)
    } finally {
      rmSync(out, { recursive: true, force: true })
    }
  })

  it('a failure of the command itself is one line and exit 2', async () => {
    const { code, stderr } = await run(['verify-certificate', '/nonexistent/cert.json', '--genesis', '/nonexistent/genesis.json'])
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/^trustnet: \[GENESIS_INVALID\]/)
  })
})
