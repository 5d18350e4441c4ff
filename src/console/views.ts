/**
 * The page's panels from the API's JSON: zones, routes (weights as bars), operations, and the
 * callers of a route. Every value goes in as text (dom.ts).
 */
import type { CallersInfo, Operations, RouteInfo, RoutesPage, ZoneInfo } from './api.js';
import { fill, h, pct, relative, table } from './dom.js';

export function renderZones(
  el: HTMLElement,
  zones: ZoneInfo[],
  selected: string | undefined,
  pick: (zone: string) => void,
): void {
  const items = zones.map((z) => {
    const button = h(
      'button',
      { type: 'button', class: z.name === selected ? 'zone selected' : 'zone', 'data-zone': z.name, title: z.name },
      h('span', { class: 'zone-name' }, z.psarn),
      h(
        'span',
        { class: 'zone-meta' },
        `serial ${z.serial} · epoch ${z.epoch} · ${z.routes} route${z.routes === 1 ? '' : 's'}`,
      ),
    );
    button.addEventListener('click', () => pick(z.name));
    return h('li', {}, button);
  });
  fill(
    el,
    h('h2', {}, 'Zones'),
    zones.length === 0 ? h('p', { class: 'note' }, 'No zones yet.') : h('ul', {}, ...items),
  );
}

/** A route's targets: one row each, its share of the calls as a bar. */
function targets(route: RouteInfo): HTMLElement {
  if (route.alias !== undefined)
    return h('div', { class: 'alias', title: route.alias }, '→ ', route.aliasPsarn ?? route.alias);
  return h(
    'div',
    { class: 'targets' },
    ...route.targets.map((t) => {
      const bar = h('span', { class: `bar ${t.role}` });
      // CSSOM, not a style attribute: allowed by the Content-Security-Policy.
      bar.style.width = `${Math.round(t.share * 100)}%`;
      return h(
        'div',
        { class: 'target', title: `weight ${t.weight}, priority ${t.priority}` },
        h('span', { class: 'meter' }, bar),
        h('span', { class: 'share' }, t.role === 'primary' ? pct(t.share) : t.role),
        h('span', { class: 'arn' }, t.target),
        h('span', { class: 'wp' }, `w ${t.weight} · p ${t.priority}`),
      );
    }),
  );
}

export function renderRoutes(
  el: HTMLElement,
  page: RoutesPage,
  routes: RouteInfo[],
  selected: string | undefined,
  actions: { pick: (psarn: string) => void; more: (() => void) | undefined },
): void {
  const rows = routes.map((r) => {
    const name = h('button', { type: 'button', class: 'route-link', 'data-psarn': r.psarn }, r.psarn);
    name.addEventListener('click', () => actions.pick(r.psarn));
    const marks = h(
      'span',
      { class: 'marks' },
      r.rollout !== undefined ? h('span', { class: 'badge rollout' }, 'rollout') : undefined,
      r.hold !== undefined ? h('span', { class: 'badge hold' }, 'on hold') : undefined,
    );
    const meta = Object.entries(r.metadata);
    return h(
      'tr',
      { class: r.psarn === selected ? 'route selected' : 'route', 'data-psarn': r.psarn },
      h('td', {}, name, marks),
      h('td', {}, r.alias !== undefined ? 'alias' : (r.policy ?? '')),
      h('td', { class: 'num' }, `${r.ttl} s`),
      h('td', {}, targets(r)),
      h('td', { class: 'num' }, r.serial),
      h('td', { class: 'meta' }, ...meta.map(([k, v]) => h('div', {}, h('b', {}, k), ' ', v))),
    );
  });
  const head = ['psARN', 'policy', 'TTL', 'targets (share of calls)', 'serial', 'metadata'];
  const more = actions.more;
  let button: HTMLButtonElement | undefined;
  if (more !== undefined) {
    button = h('button', { type: 'button', class: 'more' }, `Show more (${routes.length} of ${page.total})`);
    button.addEventListener('click', more);
  }
  fill(
    el,
    h(
      'table',
      { class: 'routes' },
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))),
      h('tbody', {}, ...rows),
    ),
    routes.length === 0 ? h('p', { class: 'note' }, 'No routes in this zone.') : undefined,
    button,
  );
}

export function renderOperations(el: HTMLElement, ops: Operations, now: number): void {
  const rollouts =
    ops.rollouts.length === 0
      ? h('p', { class: 'note' }, 'No rollout in progress.')
      : table(
          ['rollout', 'psARN', 'to', 'status', 'step', 'next step', 'gate'],
          ops.rollouts.map((r) => [
            `#${r.id}`,
            r.psarn,
            r.to,
            h('span', { class: `badge ${r.status}` }, r.status),
            `${r.step}/${r.steps.length}: ${r.percent}% (${r.steps.join(', ')} every ${r.every})`,
            r.nextStepAt === undefined
              ? (r.pauseReason ?? '—')
              : `${r.nextPercent}% ${relative(Date.parse(r.nextStepAt), now)}`,
            r.gate === undefined
              ? 'none'
              : h(
                  'span',
                  { title: r.gate.prometheus },
                  r.gate.query,
                  r.lastGate ? h('div', { class: 'note' }, r.lastGate) : undefined,
                ),
          ]),
          'rollouts',
        );
  const holds =
    ops.holds.length === 0
      ? h('p', { class: 'note' }, 'No route on hold.')
      : table(
          ['hold', 'psARN', 'queue', 'messages waiting', 'since'],
          ops.holds.map((x) => [
            `#${x.id}`,
            x.psarn,
            x.queue,
            'unknown' in x.depth
              ? `unknown (${x.depth.unknown})`
              : `${x.depth.messages} (+${x.depth.inFlight} in flight)`,
            `${relative(Date.parse(x.since), now)}${x.heldBy === undefined ? '' : ` by ${x.heldBy}`}`,
          ]),
          'holds',
        );
  fill(el, h('h3', {}, 'Rollouts'), rollouts, h('h3', {}, 'Holds'), holds);
}

export function renderCallers(el: HTMLElement, info: CallersInfo, now: number): void {
  const current = info.callers.filter((c) => c.current).length;
  const summary = h(
    'p',
    { class: 'summary' },
    `Current answer: serial ${info.currentSerial} (route changed at ${info.serial}, TTL ${info.ttl} s). `,
    h('b', {}, `${current} of ${info.callers.length}`),
    ' caller(s) have it',
    info.total > info.callers.length ? ` (first ${info.callers.length} of ${info.total} shown)` : '',
    '.',
  );
  const rows = info.callers.map((c) => [
    c.caller,
    c.current
      ? h('span', { class: 'badge current' }, 'current')
      : h(
          'span',
          { class: 'badge stale' },
          c.holdsUntil === undefined || c.holdsUntil <= now
            ? 'older (refetches on next call)'
            : `older until ${new Date(c.holdsUntil).toLocaleTimeString()} (${relative(c.holdsUntil, now)})`,
        ),
    c.serial,
    relative(c.lastSeen, now),
    c.lookups,
    c.reporters.map((r) => (r === '' ? 'this psarnd' : r)).join(', '),
  ]);
  fill(
    el,
    summary,
    info.callers.length === 0
      ? h(
          'p',
          { class: 'note' },
          'No caller has looked this route up yet (callers name themselves with EDNS option 65001).',
        )
      : table(['caller', 'has', 'serial fetched', 'last seen', 'lookups', 'seen by'], rows, 'callers'),
  );
}
