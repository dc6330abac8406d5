/**
 * The explorer page in real headless Chromium (Debian's, driven by playwright-core) against a
 * cluster of real processes, opened at the link the service's health answer gives: it shows the
 * validators up, no blocks yet, then the height advancing as a file is stored, the file's block
 * with the validators that sealed it, where the file's entry sits, and "check a file" valid for
 * the true pair and invalid for a changed file, with no request but the status polls while
 * checking. A validator stopped shows down; when the one serving the page stops, the page says it
 * cannot reach it. A screenshot is saved under test-artifacts/ (its path is printed). Skipped,
 * saying why, only when /usr/bin/chromium is absent.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ProcessCluster } from '../../cli/process-cluster.js'
import { waitFor } from '../../lib/wait-for.js'

const CHROMIUM = '/usr/bin/chromium'
const hasChromium = existsSync(CHROMIUM)
const ARTIFACTS = resolve('test-artifacts')
const TEXT = 'Minutes of the meeting of 3 May: the budget is approved.\n'

interface Stored { id: string, hash: string, certificate: { header: { height: number } } }

describe.skipIf(!hasChromium)(hasChromium ? 'the explorer page in Chromium' : `the explorer page in Chromium: skipped, ${CHROMIUM} is absent (apt-get install chromium)`, () => {
  let cluster: ProcessCluster | undefined
  let browser: Browser | undefined
  let page: Page
  let dir: string
  /** Paths (no query) the page asked of the validator, in order. */
  const requests: string[] = []

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'trustnet-explorer-'))
    const starting = (async () => {
      cluster = await ProcessCluster.create({ validators: 3 })
      await cluster.startNodes()
      await cluster.startService()
      return cluster
    })()
    // launch() runs Chromium on a fresh temporary profile; the flags keep it off the network this machine does not have.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
    await starting
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } })
    page.on('request', req => { requests.push(new URL(req.url()).pathname) })
  }, 60_000)

  afterAll(async () => {
    await browser?.close().catch(() => undefined)
    await cluster?.destroy()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  const text = async (selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? ''

  it('shows the network, the height advancing, an entry found and a file checked in the browser', async () => {
    const c = cluster as ProcessCluster
    const health = await (await fetch(`${c.serviceUrl}/v1/health`)).json() as { explorer?: string }
    expect(health.explorer).toBe(`${c.nodeUrls[0]}/explorer`)
    await page.goto(health.explorer as string)

    // Every validator up as validator 0 sees them, itself included.
    await waitFor('three validators shown up', async () => await page.locator('#validators [data-state="up"]').count() === 3, 15_000)
    expect(await text('#served-by')).toContain('validator-0')
    // A new network makes no block until something is anchored: the panel says so.
    const height0 = Number(await text('#height'))
    expect(height0).toBe(0)
    await waitFor('the empty state of the blocks', async () => (await text('#blocks-state')).includes('No blocks yet'), 5_000)
    expect(await page.locator('#blocks tbody tr').count()).toBe(0)

    // Storing a file commits a block: the page's height follows without a reload.
    const res = await fetch(`${c.serviceUrl}/v1/data?name=minutes.txt`, { method: 'POST', body: TEXT, headers: { authorization: `Bearer ${c.apiKey}`, 'content-type': 'text/plain' } })
    expect(res.status).toBe(201)
    const stored = await res.json() as Stored
    const height = stored.certificate.header.height
    await waitFor('the page to show the new height', async () => Number(await text('#height')) >= height, 10_000)
    expect(height).toBeGreaterThan(height0)
    const row = page.locator(`#blocks tr[data-height="${height}"]`)
    await row.waitFor({ timeout: 5_000 })
    expect(Number(await row.locator('td.entries').textContent())).toBeGreaterThanOrEqual(1)
    // A commit holds a quorum of precommit signatures (all 3 of 3): three signer badges are lit.
    expect(await row.locator('.badge.up').count()).toBe(3)

    // An entry the chain does not hold, then the item's id (its entry, typed in capitals): found at the certificate's height.
    await page.fill('#entry-input', 'ab'.repeat(32))
    await page.click('#entry-form button')
    await page.locator('#entry-result [data-found="no"]').waitFor({ timeout: 5_000 })
    await page.fill('#entry-input', stored.id.toUpperCase())
    await page.click('#entry-form button')
    await page.locator('#entry-result [data-found="yes"]').waitFor({ timeout: 5_000 })
    expect(await text('#entry-result')).toContain(`height ${height}`)

    // Check a file: the true pair, then a changed file, with the certificate stamp saves.
    const file = join(dir, 'minutes.txt')
    const changed = join(dir, 'minutes-changed.txt')
    const cert = join(dir, 'minutes.txt.trustnet.json')
    await writeFile(file, TEXT)
    await writeFile(changed, TEXT.replace('approved', 'rejected'))
    await writeFile(cert, JSON.stringify(stored.certificate, null, 2))
    const before = requests.length
    await page.setInputFiles('#file-input', file)
    await page.setInputFiles('#cert-input', cert)
    await page.locator('#check-result [data-verdict="valid"]').waitFor({ timeout: 10_000 })
    const verdict = await text('#check-result')
    expect(verdict).toContain(stored.hash)
    expect(verdict).toContain('minutes.txt')
    expect(verdict).toMatch(/validator-\d(, validator-\d){2,}/)

    await page.setInputFiles('#file-input', changed)
    await page.locator('#check-result [data-verdict="invalid"][data-reason="DATA_MISMATCH"]').waitFor({ timeout: 10_000 })
    // The page fetched the genesis once, when it opened; while checking it only polled: nothing about the file or certificate left it.
    expect(requests.slice(before).filter(p => p !== '/status' && p !== '/blocks')).toEqual([])
    expect(requests.filter(p => p === '/genesis')).toHaveLength(1)

    // Both dropped on the page at once (the certificate first): the true pair is valid again, and each shows in its field.
    const dropped = await page.evaluateHandle(`(() => {
      const list = new DataTransfer()
      list.items.add(new File([${JSON.stringify(JSON.stringify(stored.certificate))}], 'minutes.txt.trustnet.json', { type: 'application/json' }))
      list.items.add(new File([${JSON.stringify(TEXT)}], 'minutes.txt', { type: 'text/plain' }))
      return list
    })()`)
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: dropped })
    await page.locator('#check-result [data-verdict="valid"]').waitFor({ timeout: 10_000 })
    expect(await page.evaluate("[...document.querySelectorAll('#drop-zone input')].map(i => i.files[0].name)")).toEqual(['minutes.txt', 'minutes.txt.trustnet.json'])
    expect(requests.slice(before).filter(p => p !== '/status' && p !== '/blocks')).toEqual([])
    await mkdir(ARTIFACTS, { recursive: true })
    const shot = join(ARTIFACTS, 'explorer.png')
    await page.screenshot({ path: shot, fullPage: true })
    console.log(`explorer screenshot: ${shot}`)
  })

  it('shows a stopped validator down, and says so when the validator serving the page stops', async () => {
    const c = cluster as ProcessCluster
    await c.stopNode(2)
    await page.locator('#validators tr[data-validator="2"] [data-state="down"]').waitFor({ timeout: 10_000 })
    expect(await text('#network-state')).toContain('2 of 3 validators up')
    await c.stopNode(0)
    await page.locator('#network-state.error').waitFor({ timeout: 10_000 })
    expect(await text('#network-state')).toContain('Cannot reach this validator')
  })
})
