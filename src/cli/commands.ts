/**
 * The command table: names, flags, usage lines and help text of every `psarn` command
 * (docs/design.md#cli-names). Argument parsing and `psarn help` both read it, so they cannot
 * disagree: a command added here (`route weight`) gets its parsing, `psarn help route weight`,
 * `psarn route weight --help` and its line in `psarn help route` with nothing else to write.
 */

export type FlagSpec = { type: 'string' | 'boolean'; multiple?: boolean; short?: string };

export interface CommandSpec {
  usage: string;
  summary: string;
  /** Flags besides the global ones. */
  flags: Record<string, FlagSpec>;
  /** Lines of help after the usage line. */
  help: string[];
}

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Record<string, FlagSpec> = {
  db: { type: 'string' },
  config: { type: 'string' },
  server: { type: 'string' },
  key: { type: 'string' },
  'key-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

export const GLOBAL_HELP = [
  '--db FILE       the SQLite database (default: config db, env PSARN_DB, ./data/psarn.db)',
  '--config FILE   the config file (default: env PSARN_CONFIG, config/psarnd.yaml)',
  '--server H:P    run the command on the psarnd at H:P over DNS, not on a local database',
  '                (env PSARN_SERVER; port default 53): writes as signed UPDATE, reads as queries/AXFR',
  '--key-file F    the TSIG key for --server, a file of one line [ALG:]NAME:SECRET (or env PSARN_KEY)',
  '--key A:N:S     the key itself (nsupdate -y form; shows in ps: prefer PSARN_KEY or --key-file)',
  '-h, --help      help for the command',
];

export const COMMANDS: Record<string, CommandSpec> = {
  'route set': {
    usage:
      'psarn route set <psARN> [--target <ARN|URL>[=WEIGHT[@PRIORITY]]]... [--policy weighted|fanout] [--ttl S|default] [--meta KEY=VALUE|KEY-]... [--clear-meta]',
    summary: 'create a route, or change one (targets replaced, the rest kept unless given)',
    flags: {
      target: { type: 'string', multiple: true },
      policy: { type: 'string' },
      ttl: { type: 'string' },
      meta: { type: 'string', multiple: true },
      'clear-meta': { type: 'boolean' },
    },
    help: [
      'Creates the route (and its zone on first use), or changes it, in one transaction, and',
      'prints what changed, old → new. --target replaces all targets; a flag not given keeps what',
      'the route has (its targets, TTL, policy, metadata). Writing what is there changes nothing.',
      '--target T      an ARN or https:// URL, optionally =WEIGHT (0-65535, default 1) and',
      '                @PRIORITY (0-65535, default 10); repeat for several targets; required for',
      '                a new route. The weight follows the last =; give it (T=1) when T has an =',
      "--policy P      weighted (one target per call, by weight; a new route's default) or fanout",
      '--ttl S         seconds a caller caches the route, 0-172800 (a new route: config defaultTtl)',
      '--meta K=V      set a metadata key; --meta K- removes it; repeatable',
      '--clear-meta    remove every metadata key (then --meta K=V adds the new ones)',
      'To reset: --ttl default (config defaultTtl), --policy weighted, --meta K-, --clear-meta.',
      'Over an alias: the alias becomes a route with targets (its TTL and metadata kept).',
    ],
  },
  'route weight': {
    usage: 'psarn route weight <psARN> <target>=<WEIGHT>[@PRIORITY]...',
    summary: "change the weight (and priority) of some of a route's targets",
    flags: {},
    help: [
      'Changes only the targets named, in one transaction, and prints what changed; the other',
      'targets, the TTL, policy and metadata stay. Without @PRIORITY the priority stays.',
      'A target not on the route, an alias or a missing route is an error (exit 2), nothing changed.',
    ],
  },
  'route get': {
    usage: 'psarn route get <psARN> [--json]',
    summary: 'show one route',
    flags: { json: { type: 'boolean' } },
    help: ['--json          print the route as a JSON object'],
  },
  'route list': {
    usage: 'psarn route list [<prefix psARN or zone>] [--json]',
    summary: 'list routes, all or under a psARN prefix or a zone',
    flags: { json: { type: 'boolean' } },
    help: ['--json          print a JSON array'],
  },
  'route delete': {
    usage: 'psarn route delete <psARN> [--force]',
    summary: 'delete a route',
    flags: { force: { type: 'boolean' } },
    help: [
      'Prints the route it deleted. Refused while aliases point at the route (they are named).',
      '--force         delete it anyway; the aliases then point at nothing (DNS answers NXDOMAIN)',
    ],
  },
  'route alias': {
    usage: 'psarn route alias <psARN> <target psARN> [--ttl S|default] [--force]',
    summary: 'make a psARN answer as another psARN (CNAME)',
    flags: { ttl: { type: 'string' }, force: { type: 'boolean' } },
    help: [
      'Prints what changed. Over an existing route its TTL and metadata are kept unless --ttl is given.',
      'Refused: a loop of aliases, a chain of more than 8 (a DNS answer follows at most 8 CNAMEs), a',
      'target that is not a route, a route with targets that other aliases point at.',
      "--ttl S         seconds, 0-172800; default: the route's TTL, or config defaultTtl for a new one",
      '--force         write it even if the target does not exist yet, or aliases point at the route',
    ],
  },
  'route history': {
    usage: 'psarn route history <psARN> [--limit N] [--json]',
    summary: "list a route's changes: serial, time, who, what changed",
    flags: { json: { type: 'boolean' }, limit: { type: 'string' } },
    help: [
      'One line per change the journal keeps, oldest first: the zone serial it produced, its time',
      '(UTC), who made it (user:<OS user>, key:<TSIG key> for a DNS UPDATE, primary:<addr> on a',
      "secondary, psarnd:…; unknown before schema 4) and what changed. A zone import shows as 'zone",
      "import' (it may have changed the route); a flush of the zone as 'flush'. The journal keeps",
      'config journal.keep changes per zone (and journal.maxAge); older ones are pruned.',
      'Reads the local database only: the journal is not served over DNS.',
      '--limit N       only the newest N changes',
      '--json          one JSON object: the route, the kept range and each change with before/after',
    ],
  },
  'route revert': {
    usage: 'psarn route revert <psARN> [--to SERIAL] [--force]',
    summary: 'restore a route as it was at a serial (default: before its last change)',
    flags: { to: { type: 'string' }, force: { type: 'boolean' } },
    help: [
      'Writes the route back as it was right after the change that produced zone serial SERIAL',
      "('psarn route history' lists them), in one transaction, and prints what changed; a route",
      'that did not exist then is deleted. Without --to: as it was before its last change (a second',
      'revert undoes the first). Refused while the route has an active rollout or hold: abort or',
      'release it first. Reads the local database only: the journal is not served over DNS.',
      '--to SERIAL     the zone serial to go back to; one the journal no longer keeps is an error',
      '--force         write it even when aliases would be left pointing at nothing',
    ],
  },
  'route callers': {
    usage: 'psarn route callers <psARN> [--json]',
    summary: "which callers have the route's current answer, and until when the others keep an older one",
    flags: { json: { type: 'boolean' } },
    help: [
      'From the caller map psarnd keeps (callers name themselves in every lookup): each caller of the',
      "route, the zone serial it fetched last, when (UTC), whether that is the route's current answer,",
      "and who saw it (this psarnd, or a secondary's key). The current serial is the larger of the",
      "route's serial and the zone's last flush (or hold, release): after 'psarn flush' the view shows",
      'the flush reaching callers. A caller with an older answer keeps it until its lookup plus the TTL',
      'it fetched, or until the flush plus epochTtl when a flush came after its lookup; then it',
      'refetches on its next call. Callers of an alias of the route are listed under the alias.',
      "Reads the local database only; remotely, read the web console's JSON API (/api/v1/callers).",
      '--json          one JSON object: the route, its serials and TTL, and each caller',
    ],
  },
  flush: {
    usage: 'psarn flush <psARN|zone>',
    summary: "bump the zone's epoch: every client drops its cached routes of the zone",
    flags: {},
    help: ['Clients notice within epochTtl (default 5 s) plus one lookup, whatever the route TTLs.'],
  },
  graph: {
    usage: 'psarn graph [<zone or psARN prefix>] [--format dot|mermaid|json]',
    summary: 'draw callers → psARNs → targets: weights, policies, TTLs, aliases, rollouts, holds',
    flags: { format: { type: 'string' } },
    help: [
      'From the routes and the caller map psarnd keeps. Callers point at the psARNs they looked up',
      '(lookups summed over psarnd and the secondaries that report to it), routes at their targets',
      "with each target's share of the calls (failover and drained targets marked), aliases at what",
      'they name. Routes in a rollout (step, target, gate) or on hold (queue) are marked. Sorted, so',
      "two outputs diff cleanly. Reads the local database only; remotely, read the web console's",
      'JSON API (/api/v1/graph).',
      '<zone>          a zone name or a psARN prefix (that route and those under it), plus their',
      '                callers and where their aliases lead; default: every zone',
      '--format F      dot (default: psarn graph | dot -Tsvg > map.svg), mermaid (a flowchart for',
      '                Markdown), json (the graph itself, as the console API serves it)',
    ],
  },
  'rollout start': {
    usage:
      'psarn rollout start <psARN> --to <ARN|URL> [--preset NAME | --steps 10,25,50,100 [--every 5m]] [--abort-if PROMQL --prometheus URL]',
    summary: 'shift a route to a new target in timed steps; the first step is written at once',
    flags: {
      to: { type: 'string' },
      steps: { type: 'string' },
      every: { type: 'string' },
      preset: { type: 'string' },
      'abort-if': { type: 'string' },
      prometheus: { type: 'string' },
    },
    help: [
      "At step k% the new target has k% of the primary group's weight (out of 10000) and the targets",
      'there before share the rest in their old proportions; after the last step the new target is',
      'alone in the group (failover groups, TTL, policy and metadata stay). The primary psarnd takes',
      'each later step when due; the first is written now. Every write prints what changed.',
      '--to T          the new target (ARN or https:// URL); may be a primary target already on the route',
      '--preset P      canary10-5m, canary10-15m (10% then 100%), linear10-1m, linear10-10m (10%',
      '                more each time), all-at-once (100% at once)',
      '--steps L       whole percents, increasing, 1-100 (default 10,25,50,100); 100 is added when',
      '                the list does not end at it',
      '                (--steps 100 is blue/green: the new target at once)',
      '--every D       between steps: 30s, 5m, 1h, 1h30m (default 5m; 1s to 168h)',
      '--abort-if Q    PromQL asked before each step after the first: a non-empty result aborts',
      '                (the route as before); a gate that cannot be asked pauses the rollout',
      '--prometheus U  the Prometheus server of --abort-if, e.g. http://prometheus:9090',
      'Refused: an alias, a fanout route, a held route, a route with a rollout in progress.',
    ],
  },
  'rollout status': {
    usage: 'psarn rollout status [<psARN>] [--json]',
    summary: 'show the rollouts in progress, or the latest rollout of a route',
    flags: { json: { type: 'boolean' } },
    help: [
      'Without a psARN: one line per running or paused rollout, then why each paused one is paused.',
      "With one: the route's latest rollout, finished or not: step, schedule, next step, gate, why it",
      'paused or ended, who started it.',
      '--json          a JSON object (with a psARN) or array',
    ],
  },
  'rollout pause': {
    usage: 'psarn rollout pause <psARN>',
    summary: 'stop taking steps; the route stays as it is',
    flags: {},
    help: ["'psarn rollout resume' goes on, 'promote' finishes at once, 'abort' restores the route."],
  },
  'rollout resume': {
    usage: 'psarn rollout resume <psARN>',
    summary: 'go on with a paused rollout: the next step one interval from now',
    flags: {},
    help: [
      'A route changed by hand while paused is taken as it is (a warning names who changed it); the',
      "next step writes the rollout's weights over it. Refused while the route is held.",
    ],
  },
  'rollout promote': {
    usage: 'psarn rollout promote <psARN>',
    summary: 'finish a rollout now: the new target alone in the primary group',
    flags: {},
    help: ['Skips the remaining steps and their gate; prints what changed.'],
  },
  'rollout abort': {
    usage: 'psarn rollout abort <psARN>',
    summary: 'end a rollout now and put the route back exactly as it was before it',
    flags: {},
    help: [
      'Writes the route saved at start, byte for byte (targets and their order, weights, priorities,',
      'TTL, policy, metadata), whatever the steps did; prints what changed.',
    ],
  },
  hold: {
    usage: 'psarn hold <psARN> --queue <sqs-queue-ARN> [--json]',
    summary: 'park a route: save it and send its events to an SQS queue until release',
    flags: { queue: { type: 'string' }, json: { type: 'boolean' } },
    help: [
      'In one transaction: saves the route, makes it fanout to the queue alone (TTL and metadata',
      "kept), bumps the zone's epoch (callers follow within epochTtl, whatever the TTL) and pauses",
      'a running rollout of the route. Refused: an alias (hold the route it names), a route held',
      'already (the message names its queue), a queue the route already sends to. With --server:',
      'the primary psarnd runs it (docs/cli.md#remote).',
      '--queue ARN     the SQS queue, arn:aws:sqs:REGION:ACCOUNT:QUEUE (it must exist)',
      '--json          print the hold (id, saved route, queue) as JSON',
    ],
  },
  release: {
    usage: 'psarn release <psARN> [--replay [--rate N] [--dns HOST[:PORT]]] [--force] [--json]',
    summary: 'restore a held route; with --replay, send the held events through it',
    flags: {
      replay: { type: 'boolean' },
      rate: { type: 'string' },
      dns: { type: 'string' },
      force: { type: 'boolean' },
      json: { type: 'boolean' },
    },
    help: [
      'Writes the saved route back exactly (targets, order, weights, priorities, policy, TTL, metadata),',
      "bumps the zone's epoch, in one transaction. A rollout the hold paused stays paused.",
      'Refused when the route was changed while held (the change is shown): --force restores anyway.',
      '--replay        then read the queue (SQS ReceiveMessage, long polling) and invoke each message',
      '                through the restored route with the client library; a message is deleted only',
      '                after a target took it; failures stay in the queue (exit 1). Run it again to',
      '                replay what is left (after a kill, or once the target is fixed).',
      '--rate N        at most N invocations a second (default: as fast as the targets answer)',
      '--dns H[:P]     the psarnd to resolve the route from (default: config listen, 127.0.0.1:8053;',
      '                with --server, that server)',
      '--force         restore the saved route over a change made while held',
      '--json          print the result (and the replay counts) as JSON; progress is JSON lines on stderr',
      'AWS calls follow the SDK configuration: AWS_REGION, credentials, AWS_ENDPOINT_URL_SQS, ...',
    ],
  },
  apply: {
    usage: 'psarn apply <routes.yaml> [--dry-run] [--prune] [--json]',
    summary: 'make the database match a routes file: print the plan, then apply it in one transaction',
    flags: { 'dry-run': { type: 'boolean' }, prune: { type: 'boolean' }, json: { type: 'boolean' } },
    help: [
      'Prints the plan like terraform plan (+ add, ~ change with old → new, - delete), then writes it in',
      'one transaction: one serial bump per zone touched, or nothing at all. A second apply prints',
      "'No changes.' and writes nothing. The file is the truth for each route it lists: a field it",
      'leaves out takes its default (ttl: config defaultTtl, policy weighted, no metadata).',
      'Refused (nothing written): a route with an active rollout or hold (exit 1). Exit 2: a bad file',
      '(every error names the file, the line and the route). Format: config/demo-routes.yaml.',
      'With --server: the same plan from the zones read by AXFR, then one UPDATE per zone (each zone',
      'all or nothing; the first that fails stops the apply and names the zones written).',
      '--dry-run       print the plan only; write nothing',
      '--prune         also delete the routes of the zones the file names that it does not list',
      '                (other zones are never touched)',
      '--json          print the plan (and the serials written) as one JSON object',
    ],
  },
  'zone export': {
    usage: 'psarn zone export <zone> [--output FILE]',
    summary: 'write a zone as an RFC 1035 master file',
    flags: { output: { type: 'string', short: 'o' } },
    help: [
      '<zone> is the zone name (123456789012.us-east-1.aws.psarn.internal) or any psARN in it;',
      'catalog.psarn.internal (catalog.<namespace>) writes the catalog zone of every zone (RFC 9432).',
      '-o, --output F  write to F (atomically) instead of stdout',
    ],
  },
  'zone import': {
    usage: 'psarn zone import <file>',
    summary: 'replace zones with the contents of a master file, in one transaction',
    flags: {},
    help: ['Every zone in the file is replaced whole; zones not in the file are left alone.'],
  },
  dig: {
    usage: 'psarn dig <psARN|name> [TYPE] [@HOST[:PORT]] [+short] [+tcp] [+json] [+timeout=S] [+tries=N] [+caller=ID]',
    summary: 'query a psarnd server, like dig, and summarise the route',
    flags: {},
    help: [
      'TYPE            URI (default), TXT, CNAME, SOA, NS, ANY, ... or TYPEnnn',
      '@HOST[:PORT]    the server (default: config listen, 127.0.0.1:8053); IPv6 as @[::1]:8053',
      '+short          only the answer rdata, one per line',
      '+tcp            query over TCP (UDP falls back to TCP by itself when the reply is truncated)',
      '+json           one JSON object',
      '+timeout=S      seconds to wait per try (default 2)',
      '+tries=N        UDP tries (default 3)',
      '+caller=ID      send ID as the caller (EDNS option 65001), as the client library does: psarnd records it',
    ],
  },
  resolve: {
    usage: 'psarn resolve <psARN> [@HOST[:PORT]] [--json]',
    summary: 'resolve a psARN the way the client library does and show the route it gets',
    flags: { json: { type: 'boolean' } },
    help: [
      'Asks psarnd through PsarnClient: policy, TTL, epoch, expiry, cache state, DNS queries sent,',
      "and each target's priority, weight and share of traffic.",
      '@HOST[:PORT]    the server (default: config listen, 127.0.0.1:8053); IPv6 as @[::1]:8053',
      '--json          print the Route object plus cache and queries',
    ],
  },
  invoke: {
    usage: 'psarn invoke <psARN> [--payload JSON|@FILE] [--event] [--sticky-key KEY] [@HOST[:PORT]] [--json]',
    summary: 'send an event to a psARN: resolve, then invoke its real targets (AWS SDK, https)',
    flags: {
      payload: { type: 'string' },
      event: { type: 'boolean' },
      'sticky-key': { type: 'string' },
      json: { type: 'boolean' },
    },
    help: [
      'AWS calls follow the SDK configuration of the environment: AWS_REGION, the credential chain,',
      'AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>. Exit 0 when a target accepted the event,',
      '1 when every target failed (each failure is printed), 2 for bad input.',
      '--payload P     the event: JSON text (default {}), or @FILE (JSON when it parses, else text)',
      '--event         Lambda targets are invoked asynchronously (InvocationType Event)',
      '--sticky-key K  pick as invoke(psarn, payload, { key: K }) does: the same target for the same',
      '                key while the weights hold (weighted rendezvous hashing); a Kinesis PartitionKey',
      '@HOST[:PORT]    the server (default: config listen, 127.0.0.1:8053)',
      "--json          print the result: psarn, policy, stale, delivered, and each target's outcome",
    ],
  },
  'db init': {
    usage: 'psarn db init',
    summary: 'create an empty database (no demo routes); other commands never create one',
    flags: {},
    help: [],
  },
  'key generate': {
    usage: 'psarn key generate [NAME] [--algorithm hmac-sha256|hmac-sha512]',
    summary: 'print a new random TSIG key, for psarnd, nsupdate, dig and kdig',
    flags: { algorithm: { type: 'string' } },
    help: [
      'Prints the key as a tsig.keys entry of the psarnd config (the output is valid YAML) and in',
      'the -y form of nsupdate, dig and kdig (ALG:NAME:SECRET). Reads no config and no database.',
      `NAME            the key's name (default psarn-key): letters, digits, - and _, dot-separated`,
      '--algorithm A   hmac-sha256 (default; a 32-byte secret) or hmac-sha512 (64 bytes)',
    ],
  },
  help: {
    usage: 'psarn help [command [subcommand]]',
    summary: 'show help',
    flags: {},
    help: ["'psarn help route' lists the route commands; 'psarn help route set' shows one."],
  },
};

/** What each command group is for, in `psarn help <group>`. */
export const GROUP_SUMMARIES: Record<string, string> = {
  route: 'manage routes',
  rollout: 'shift a route to a new target in timed steps, with an optional metric gate',
  zone: 'export and import zones as RFC 1035 master files',
  db: 'manage the database file',
  key: 'make TSIG keys (RFC 8945) for transfers, NOTIFY, UPDATE and the remote CLI',
};

/** Command groups (`route`, `zone`, `db`): the first word of the commands of two words. */
export const GROUPS: readonly string[] = [
  ...new Set(
    Object.keys(COMMANDS)
      .filter((k) => k.includes(' '))
      .map((k) => k.split(' ')[0]!),
  ),
];

/** `--version`/`-v`: only before any command, as `aws --version`. */
export const VERSION_FLAG: Record<string, FlagSpec> = { version: { type: 'boolean', short: 'v' } };

/** The commands of a group, e.g. `route` -> ['route set', 'route get', ...]. */
export function groupCommands(group: string): string[] {
  return Object.keys(COMMANDS).filter((k) => k.startsWith(`${group} `));
}

export function generalHelp(version: string): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  const lines = [
    `psarn ${version}: manage psARN routes in a psarnd database and query psarnd`,
    '',
    'Usage: psarn <command> [arguments] [--db FILE] [--config FILE]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, spec]) => `  ${name.padEnd(width)}  ${spec.summary}`),
    '',
    'Global flags:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '  -v, --version   print the version',
    '',
    "Run 'psarn help <command>' or 'psarn <command> --help' for a command's arguments.",
  ];
  return `${lines.join('\n')}\n`;
}

export function commandHelp(name: string): string {
  const spec = COMMANDS[name]!;
  const lines = [`Usage: ${spec.usage}`, '', `${spec.summary}.`];
  if (spec.help.length > 0) lines.push('', ...spec.help);
  lines.push('', 'Global flags:', ...GLOBAL_HELP);
  return `${lines.join('\n')}\n`;
}

/** `psarn help route`: the group's commands, each with its usage line. */
export function groupHelp(group: string): string {
  const names = groupCommands(group);
  const width = Math.max(...names.map((k) => k.length));
  const summary = GROUP_SUMMARIES[group];
  const lines = [
    `Usage: psarn ${group} <command> [arguments] [--db FILE] [--config FILE]`,
    ...(summary === undefined ? [] : ['', `${summary[0]!.toUpperCase()}${summary.slice(1)}.`]),
    '',
    'Commands:',
    ...names.map((name) => `  ${name.padEnd(width)}  ${COMMANDS[name]!.summary}`),
    '',
    'Usage of each:',
    ...names.map((name) => `  ${COMMANDS[name]!.usage}`),
    '',
    `Run 'psarn help ${group} <command>' or 'psarn ${group} <command> --help' for a command's flags.`,
  ];
  return `${lines.join('\n')}\n`;
}

/** The help text of a topic: a command (`route set`), a group (`route`), or everything. */
export function helpText(topic: string | undefined, version: string): string {
  if (topic === undefined) return generalHelp(version);
  return topic in COMMANDS ? commandHelp(topic) : groupHelp(topic);
}
