/** `psarn flush` (docs/design.md#the-epoch-override) and `psarn db init`. */
import { existsSync } from 'node:fs';
import { Store } from '../../store/store.js';
import { StoreError } from '../../store/types.js';
import type { Command } from '../args.js';
import { type Context, localActor } from '../context.js';
import { databaseFault } from '../db-faults.js';
import { CliError, oneLine } from '../errors.js';
import { zoneArg } from './zone.js';

type Of<K extends Command['kind']> = Extract<Command, { kind: K }>;

export function flush(cmd: Of<'flush'>, ctx: Context): void {
  const zone = zoneArg(cmd.scope, ctx.config.namespace);
  const store = ctx.openStore('write');
  try {
    const { epoch, serial } = store.flush(zone, { actor: localActor(ctx.io.env) });
    // A flush always changes the epoch: old → new, as every write prints what it changed.
    ctx.io.stdout.write(`flushed ${zone}: epoch ${epoch - 1} → ${epoch} (serial ${serial})\n`);
  } catch (err) {
    if (err instanceof StoreError && err.code === 'ERR_ZONE_NOT_FOUND') {
      throw new CliError('ERR_NOT_FOUND', `zone '${zone}' not found in ${ctx.config.db}; nothing flushed`, {
        cause: err,
      });
    }
    throw err;
  } finally {
    store.close();
  }
}

/** Creates an empty database, or migrates an existing one; loads no demo routes. */
export function dbInit(_cmd: Of<'db init'>, ctx: Context): void {
  const file = ctx.config.db;
  const existed = existsSync(file);
  let store: Store;
  try {
    store = Store.open(file, { create: true, mode: ctx.config.dbMode });
  } catch (err) {
    throw databaseFault(file, err) ?? new CliError('ERR_RUNTIME', oneLine((err as Error).message), { cause: err });
  }
  try {
    const zones = store.zones().length;
    ctx.io.stdout.write(
      existed
        ? `database ${file} already exists (${zones} ${zones === 1 ? 'zone' : 'zones'}); schema is current\n`
        : `created database ${file}\n`,
    );
  } finally {
    store.close();
  }
}
