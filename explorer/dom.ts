/**
 * The few DOM helpers the page needs: build elements from text (never from HTML, so names and
 * messages from the network cannot inject markup), replace a node's children, and format
 * times, ages and long hex for display.
 */

type Child = Node | string

export function h<K extends keyof HTMLElementTagNameMap> (tag: K, props: { class?: string, title?: string, data?: Record<string, string> } = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  if (props.class !== undefined) el.className = props.class
  if (props.title !== undefined) el.title = props.title
  for (const [k, v] of Object.entries(props.data ?? {})) el.dataset[k] = v
  el.append(...children)
  return el
}

export function byId<T extends HTMLElement = HTMLElement> (id: string): T {
  const el = document.getElementById(id)
  if (el === null) throw new Error(`the page has no #${id}`)
  return el as T
}

export function replace (parent: Element, ...children: Child[]): void {
  parent.replaceChildren(...children)
}

/** A panel's one-line state: empty hides it; `error` shows it as a failure. */
export function setState (el: HTMLElement, text: string, error = false): void {
  el.textContent = text
  el.classList.toggle('error', error)
}

/** `2024-05-01 12:00:03` (UTC). */
export function utc (ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19)
}

/** `4 s ago`, `3 min ago`, `2 h ago`. */
export function age (ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  if (s < 120) return `${s} s ago`
  if (s < 7200) return `${Math.round(s / 60)} min ago`
  return `${Math.round(s / 3600)} h ago`
}

/** The first and last characters of a long hex or id, the whole in its title. */
export function short (text: string, keep = 8): HTMLSpanElement {
  return h('span', { class: 'mono', title: text }, text.length <= keep * 2 + 1 ? text : `${text.slice(0, keep)}…${text.slice(-keep)}`)
}

/** A definition list of label/value pairs; values undefined are left out. */
export function facts (rows: Array<[string, Child | undefined]>): HTMLDListElement {
  const dl = h('dl', { class: 'facts' })
  for (const [label, value] of rows) if (value !== undefined) dl.append(h('dt', {}, label), h('dd', {}, value))
  return dl
}
