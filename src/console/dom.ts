/**
 * Building DOM nodes from data without ever parsing it as HTML: every string becomes a text node
 * (caller ids, route metadata and targets are untrusted), attributes are set one by one, and no
 * `innerHTML` anywhere (docs/design.md#web-console).
 */

type Child = Node | string | number | undefined | null | false;

/** An element with attributes (`class`, `title`, `data-*`, …) and children; strings become text. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, value);
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    el.append(typeof child === 'number' ? String(child) : child);
  }
  return el;
}

/** Replaces an element's children. */
export function fill(el: Element, ...children: Child[]): void {
  el.replaceChildren(
    ...children
      .filter((c): c is Node | string | number => c !== undefined && c !== null && c !== false)
      .map((c) => (typeof c === 'number' ? String(c) : c)),
  );
}

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** `12 s ago`, `in 3 min`: a time relative to now, for last-seen and next-step columns. */
export function relative(ms: number, now: number): string {
  const d = Math.round((ms - now) / 1000);
  const a = Math.abs(d);
  const text =
    a < 60
      ? `${a} s`
      : a < 3600
        ? `${Math.round(a / 60)} min`
        : a < 86400
          ? `${Math.round(a / 3600)} h`
          : `${Math.round(a / 86400)} d`;
  return d < 0 ? `${text} ago` : d === 0 ? 'now' : `in ${text}`;
}

/** A percentage with at most one decimal. */
export function pct(share: number): string {
  return `${Math.round(share * 1000) / 10}%`;
}

/** A table from a header row and rows of cells. */
export function table(head: string[], rows: Child[][], cls?: string): HTMLTableElement {
  return h(
    'table',
    { class: cls },
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))),
    h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
  );
}
