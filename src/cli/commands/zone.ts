/** `psarn zone export|import` (docs/design.md#zone-files): RFC 1035 master files in and out. */
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { zoneParams } from '../../config/config.js';
import { ECHO_LONG, echo, quote } from '../../errors.js';
import { parseZoneArg } from '../../psarn/name.js';
import { quoteInput } from '../../psarn/psarn.js';
import { catalogName, readCatalog } from '../../zone/catalog.js';
import { exportCatalog, exportZone } from '../../zonefile/export.js';
import { importMasterFile } from '../../zonefile/import.js';
import type { Command } from '../args.js';
import { type Context, localActor } from '../context.js';
import { CliError, oneLine, usageError } from '../errors.js';
import { targetChecker } from './route.js';
import { warnAliasProblems } from './route-write.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

export function zoneArg(input: string, namespace: string): string {
  try {
    return parseZoneArg(input, namespace);
  } catch (err) {
    throw usageError(oneLine((err as Error).message), err);
  }
}

function writeError(output: string, err: unknown): CliError {
  const code = (err as NodeJS.ErrnoException).code;
  const why =
    code === 'EISDIR' ? 'EISDIR (a folder; give a file path)' : (code ?? echo((err as Error).message, ECHO_LONG));
  return new CliError('ERR_RUNTIME', `cannot write ${quote(output, ECHO_LONG)}: ${why}`, { cause: err });
}

/** True when the argument names the catalog zone, `catalog.<namespace>` (trailing dot optional, any case). */
function isCatalog(input: string, namespace: string): boolean {
  const name = input.toLowerCase();
  return (name.endsWith('.') ? name : `${name}.`) === catalogName(namespace);
}

export function zoneExport(cmd: Of<'zone export'>, ctx: Context): void {
  const catalog = isCatalog(cmd.zone, ctx.config.namespace);
  const zone = catalog ? catalogName(ctx.config.namespace) : zoneArg(cmd.zone, ctx.config.namespace);
  const target = cmd.output === undefined ? undefined : resolve(ctx.io.cwd, cmd.output);
  const store = ctx.openStore();
  // --output goes to a temporary file renamed into place, so a failed export leaves no half file.
  const tmp = target === undefined ? undefined : join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  let fd: number | undefined;
  try {
    store.read(() => {
      // The catalog (docs/design.md#catalog-zone) is derived from the zone list, as psarnd serves it.
      const row = catalog ? undefined : store.zone(zone);
      if (!catalog && row === undefined) {
        throw new CliError(
          'ERR_NOT_FOUND',
          `zone '${zone}' not found in ${ctx.config.db}; 'psarn route list' shows the routes`,
        );
      }
      if (tmp !== undefined) {
        try {
          fd = openSync(tmp, 'w');
        } catch (err) {
          throw writeError(cmd.output!, err);
        }
      }
      const chunks =
        row === undefined
          ? exportCatalog(readCatalog(store, { namespace: ctx.config.namespace, params: zoneParams(ctx.config) }))
          : exportZone(row, store.listRoutes(zone), { epochTtl: ctx.config.epochTtl });
      for (const chunk of chunks) {
        if (fd === undefined) ctx.io.stdout.write(chunk);
        else writeSync(fd, chunk);
      }
    });
    if (fd !== undefined) {
      closeSync(fd);
      fd = undefined;
      try {
        renameSync(tmp!, target!);
      } catch (err) {
        // `-o some-folder`: rename(2) refuses (EISDIR); no temporary file may stay behind.
        rmSync(tmp!, { force: true });
        throw writeError(cmd.output!, err);
      }
    }
  } finally {
    if (fd !== undefined) {
      closeSync(fd);
      rmSync(tmp!, { force: true });
    }
    store.close();
  }
}

export function zoneImport(cmd: Of<'zone import'>, ctx: Context): void {
  const file = resolve(ctx.io.cwd, cmd.file);
  const started = ctx.now();
  let text: Buffer;
  try {
    // Bytes, not a string: the parser reads them as they are (and a string caps the file at ~512 MB).
    text = readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? echo((err as Error).message, ECHO_LONG);
    throw new CliError(
      'ERR_RUNTIME',
      `cannot read zone file ${quote(cmd.file, ECHO_LONG)}: ${code}; give a readable master file`,
      {
        cause: err,
      },
    );
  }
  // Parse and build everything before opening the store: a bad line changes nothing.
  let zones: ReturnType<typeof importMasterFile>;
  try {
    zones = importMasterFile(text, {
      file: cmd.file,
      defaultTtl: ctx.config.defaultTtl,
      namespace: ctx.config.namespace,
    });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_ZONEFILE') {
      throw new CliError('ERR_RUNTIME', `${oneLine((err as Error).message)}; nothing imported`, { cause: err });
    }
    throw err;
  }
  if (zones.length === 0) {
    throw new CliError('ERR_RUNTIME', `no zone records in ${quote(cmd.file, ECHO_LONG)}; nothing imported`);
  }
  const checker = targetChecker(
    ctx,
    (err) => new CliError('ERR_RUNTIME', `${quoteInput(cmd.file)}: ${err.message}; nothing imported`, { cause: err }),
  );
  for (const zone of zones) {
    for (let i = 0; i < zone.routes.length; i++) {
      const spec = zone.routes.at(i)!.spec;
      if ('targets' in spec && spec.targets !== undefined) {
        for (const t of spec.targets) checker.check(t.target);
      }
    }
  }
  checker.done();
  const params = zoneParams(ctx.config);
  const store = ctx.openStore('write');
  try {
    const results = store.importZones(zones, params, { actor: localActor(ctx.io.env) });
    const ms = Math.round(ctx.now() - started);
    for (const r of results) {
      if (r.created) ctx.io.stdout.write(`created zone ${r.zone}\n`);
      ctx.io.stdout.write(
        `imported ${r.routes} ${r.routes === 1 ? 'route' : 'routes'} into ${r.zone} (serial ${r.serial}) in ${ms} ms\n`,
      );
    }
    warnAliasProblems(ctx, results);
  } finally {
    store.close();
  }
}
