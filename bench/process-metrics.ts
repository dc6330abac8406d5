/**
 * Resource figures of running processes read from Linux's /proc and the file system: a sampler
 * of resident memory that keeps the maximum per process slot over a run (a restarted validator
 * keeps its slot), and the bytes a directory holds on disk.
 *
 * Resident memory (VmRSS) counts file pages mapped into the process as well as its own memory:
 * the node binary's code, shared by every Node process on the machine (about 45 MiB), and the
 * LevelDB table files a node maps to read them, which grow with its chain and which the kernel
 * can drop at any time. The private part (RssAnon: heap, native allocations) is what a process
 * alone holds, so both are kept.
 */
import { readFile, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'

export interface ResidentMiB {
  /** VmRSS: everything resident, mapped files included. */
  rss: number
  /** RssAnon: resident memory of the process's own (heap, native allocations). */
  private: number
}

const VM_RSS = /^VmRSS:\s+(\d+)\s+kB/m
const RSS_ANON = /^RssAnon:\s+(\d+)\s+kB/m

/** Resident memory of a live process in MiB; undefined if it is gone. */
export async function residentMiB (pid: number): Promise<ResidentMiB | undefined> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => undefined)
  if (status === undefined) return undefined
  const rss = VM_RSS.exec(status)?.[1]
  const anon = RSS_ANON.exec(status)?.[1]
  return rss === undefined || anon === undefined ? undefined : { rss: Number(rss) / 1024, private: Number(anon) / 1024 }
}

export class RssSampler {
  /** slot -> max RSS seen, MiB */
  readonly maxMiB = new Map<string, number>()
  /** slot -> max private resident memory seen, MiB */
  readonly maxPrivateMiB = new Map<string, number>()
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
      const mib = pid === undefined ? undefined : await residentMiB(pid)
      if (mib === undefined) return
      if (mib.rss > (this.maxMiB.get(slot) ?? 0)) this.maxMiB.set(slot, mib.rss)
      if (mib.private > (this.maxPrivateMiB.get(slot) ?? 0)) this.maxPrivateMiB.set(slot, mib.private)
    }))
  }
}

/** Total size in bytes of the files under `dir`. */
export async function dirBytes (dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true })
  const sizes = await Promise.all(entries.filter(e => e.isFile()).map(async e => (await stat(join(e.parentPath ?? e.path, e.name))).size))
  return sizes.reduce((a, b) => a + b, 0)
}
