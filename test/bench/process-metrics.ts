/**
 * Resource figures of running processes read from Linux's /proc and the file system: a sampler
 * of resident memory (VmRSS) that keeps the maximum per process slot over a run (a restarted
 * validator keeps its slot), and the bytes a directory holds on disk.
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

/** VmRSS of a live process in MiB; undefined if it is gone. */
export async function rssMiB (pid: number): Promise<number | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined)
  const kb = status === undefined ? undefined : /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
  return kb === undefined ? undefined : Number(kb) / 1024
}

export class RssSampler {
  /** slot -> max RSS seen, MiB */
  readonly maxMiB = new Map<string, number>()
  private timer: NodeJS.Timeout | undefined
  private sampling: Promise<void> = Promise.resolve()

  /** `pids()` names the processes to watch now (slot -> pid); it is called at every sample. */
  constructor (private readonly pids: () => Map<string, number | undefined>, private readonly everyMs = 250) {}

  start (): void {
    this.timer = setInterval(() => { this.sampling = this.sample() }, this.everyMs)
  }

  async stop (): Promise<void> {
    clearInterval(this.timer)
    await this.sampling
    await this.sample()
  }

  private async sample (): Promise<void> {
    await Promise.all([...this.pids()].map(async ([slot, pid]) => {
      const mib = pid === undefined ? undefined : await rssMiB(pid)
      if (mib !== undefined && mib > (this.maxMiB.get(slot) ?? 0)) this.maxMiB.set(slot, mib)
    }))
  }
}

/** Total size in bytes of the files under `dir`. */
export async function dirBytes (dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const sizes = await Promise.all(entries.filter(e => e.isFile()).map(async e => (await stat(join(e.parentPath ?? e.path, e.name))).size))
  return sizes.reduce((a, b) => a + b, 0)
}
