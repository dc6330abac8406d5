import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CLI_PATH } from '../../cli/cluster.js'

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

  it('a failure of the command itself is one line and exit 2', async () => {
    const { code, stderr } = await run(['verify-certificate', '/nonexistent/cert.json', '--genesis', '/nonexistent/genesis.json'])
    expect(code).toBe(2)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toMatch(/^trustnet: \[GENESIS_INVALID\]/)
  })
})
