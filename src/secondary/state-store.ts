/**
 * A secondary's state in its own database (docs/design.md#secondary-mode): the local copies are
 * the store's zones; the time of each zone's last successful refresh or SOA check is a setting,
 * so that a restart keeps counting toward the SOA expire (RFC 1035 §3.3.13) instead of trusting
 * an old copy for another whole expire.
 */
import type { Store } from '../store/store.js';
import type { LocalCopy, SecondaryState } from './secondary.js';

/** The setting that marks a database as a secondary's copy; its value is the primary's host:port. */
export const PRIMARY_SETTING = 'secondary.primary';

/** The setting holding `zone`'s last successful refresh (ms since the epoch, decimal). */
export function refreshedSetting(zone: string): string {
  return `secondary.refreshed ${zone}`;
}

/** The setting holding when `zone`'s copy expires (ms since the epoch, decimal; RFC 7314 §4). */
export function expiresSetting(zone: string): string {
  return `secondary.expires ${zone}`;
}

/** SecondaryState over a Store. */
export function storeState(store: Store): SecondaryState {
  return {
    copy(zone: string): LocalCopy | undefined {
      const row = store.zone(zone);
      return row === undefined
        ? undefined
        : { serial: row.serial, refresh: row.refresh, retry: row.retry, expire: row.expire };
    },
    zones: () => store.zones().map((z) => z.name),
    lastSuccess(zone: string): number | undefined {
      const text = store.setting(refreshedSetting(zone));
      const ms = text === undefined ? Number.NaN : Number(text);
      return Number.isFinite(ms) ? ms : undefined;
    },
    putLastSuccess(zone: string, ms: number | undefined): void {
      store.putSetting(refreshedSetting(zone), ms === undefined ? undefined : String(ms));
    },
    expiresAt(zone: string): number | undefined {
      const text = store.setting(expiresSetting(zone));
      const ms = text === undefined ? Number.NaN : Number(text);
      return Number.isFinite(ms) ? ms : undefined;
    },
    putExpiresAt(zone: string, ms: number | undefined): void {
      store.putSetting(expiresSetting(zone), ms === undefined ? undefined : String(ms));
    },
  };
}
