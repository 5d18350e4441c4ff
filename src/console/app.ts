/**
 * The web console (docs/design.md#web-console): asks for the token when the API wants one, then
 * shows the zones, the routes of one, the operations, the graph and the callers of a route, and
 * keeps them live: it polls /api/v1/version every second and fetches again only the parts whose
 * token moved (a `route set` shows within about a second, without a reload).
 */
import { ApiFailure, api, type RouteInfo, type RoutesPage, token, type Version } from './api.js';
import { byId, fill, h } from './dom.js';
import { GraphView } from './graph-view.js';
import { renderCallers, renderOperations, renderRoutes, renderZones } from './views.js';

const POLL_MS = 1000;
/** A tab in the background looks less often: a forgotten tab costs psarnd little. */
const HIDDEN_POLL_MS = 10_000;
/** Queue depths are cached 30 s by psarnd: the holds are read again as often, while there are any. */
const DEPTH_MS = 30_000;
const PAGE = 200;

const state: {
  version?: Version;
  zone?: string;
  page?: RoutesPage;
  routes: RouteInfo[];
  psarn?: string;
  holds: number;
  depthsAt: number;
  polling: boolean;
} = { routes: [], holds: 0, depthsAt: 0, polling: false };

const status = (text: string, cls = ''): void => {
  const el = byId('status');
  el.textContent = text;
  el.className = `status ${cls}`;
};

const graph = new GraphView(byId('graph'), (node) => {
  if (node.kind === 'route' || node.kind === 'alias') void selectRoute(node.label);
  byId('graph-note').textContent = `${node.kind}: ${node.label}`;
});

async function loadZones(): Promise<void> {
  const { zones } = await api.zones();
  if (state.zone === undefined || !zones.some((z) => z.name === state.zone)) state.zone = zones[0]?.name;
  renderZones(byId('zones'), zones, state.zone, (zone) => void selectZone(zone));
}

async function loadRoutes(): Promise<void> {
  if (state.zone === undefined) {
    fill(byId('routes'), h('p', { class: 'note' }, 'No zone.'));
    return;
  }
  // The pages shown so far, read again in one request (at most the API's page limit).
  const page = await api.routes(state.zone, Math.min(1000, Math.max(PAGE, state.routes.length)));
  state.page = page;
  state.routes = page.routes;
  drawRoutes();
}

function drawRoutes(): void {
  const page = state.page;
  if (page === undefined) return;
  byId('routes-title').textContent = `Routes of ${page.zone} (serial ${page.serial}, ${page.total})`;
  const next = state.routes.length < page.total ? state.routes[state.routes.length - 1]?.path : undefined;
  renderRoutes(byId('routes'), page, state.routes, state.psarn, {
    pick: (psarn) => void selectRoute(psarn),
    more:
      next === undefined
        ? undefined
        : () =>
            void api.moreRoutes(page.zone, next, PAGE).then((more) => {
              state.routes = [...state.routes, ...more.routes];
              drawRoutes();
            }, failed),
  });
}

async function loadOperations(): Promise<void> {
  const ops = await api.operations();
  state.holds = ops.holds.length;
  state.depthsAt = Date.now();
  renderOperations(byId('operations'), ops, Date.now());
}

async function loadGraph(): Promise<void> {
  try {
    graph.show(await api.graph(state.zone));
    byId('graph-note').textContent = '';
  } catch (err) {
    if (!(err instanceof ApiFailure) || err.unauthorized) throw err;
    byId('graph-note').textContent = err.message;
  }
}

async function loadCallers(): Promise<void> {
  if (state.psarn === undefined) return;
  byId('callers-title').textContent = `Callers of ${state.psarn}`;
  try {
    renderCallers(byId('callers'), await api.callers(state.psarn), Date.now());
  } catch (err) {
    if (!(err instanceof ApiFailure) || err.unauthorized) throw err;
    fill(byId('callers'), h('p', { class: 'error' }, err.message));
  }
}

async function selectZone(zone: string): Promise<void> {
  state.zone = zone;
  state.routes = [];
  await Promise.all([loadZones(), loadRoutes(), loadGraph()]);
}

async function selectRoute(psarn: string): Promise<void> {
  state.psarn = psarn;
  drawRoutes();
  await loadCallers();
}

/** One look at the version token; fetches again what moved. */
async function poll(): Promise<void> {
  const v = await api.version();
  const was = state.version;
  state.version = v;
  const routes = was === undefined || was.routes !== v.routes;
  const ops = was === undefined || was.operations !== v.operations;
  const callers = was === undefined || was.callers !== v.callers;
  // The zones first: they decide which zone the other reads are of (the first, on the first look).
  if (routes) await loadZones();
  const work: Promise<void>[] = [];
  if (routes || ops) work.push(loadRoutes());
  if (ops || (state.holds > 0 && Date.now() - state.depthsAt >= DEPTH_MS)) work.push(loadOperations());
  if (routes || ops || callers) work.push(loadGraph());
  if (routes || callers) work.push(loadCallers());
  await Promise.all(work);
  document.body.dataset.version = v.version;
  status(`live · ${new Date().toLocaleTimeString()}`, 'live');
}

function failed(err: unknown): void {
  if (err instanceof ApiFailure && err.unauthorized) {
    showLogin(token.get() === null ? '' : 'The token was refused.');
    return;
  }
  status(`not updating: ${err instanceof Error || err instanceof ApiFailure ? err.message : String(err)}`, 'down');
}

function loop(): void {
  if (state.polling) return;
  state.polling = true;
  const later = (): void => {
    setTimeout(tick, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
  };
  const tick = (): void => {
    poll().then(later, (err: unknown) => {
      failed(err);
      if (err instanceof ApiFailure && err.unauthorized) state.polling = false;
      else later();
    });
  };
  tick();
}

function showLogin(message: string): void {
  byId('app').hidden = true;
  byId('login').hidden = false;
  byId('logout').hidden = true;
  byId('login-error').textContent = message;
  status('token needed', 'down');
  byId<HTMLInputElement>('token').focus();
}

function showApp(): void {
  byId('login').hidden = true;
  byId('app').hidden = false;
  byId('logout').hidden = token.get() === null;
}

byId<HTMLFormElement>('login-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = byId<HTMLInputElement>('token');
  token.set(input.value.trim());
  input.value = '';
  state.version = undefined;
  showApp();
  loop();
});

byId('logout').addEventListener('click', () => {
  token.clear();
  state.version = undefined;
  showLogin('');
});

showApp();
loop();
