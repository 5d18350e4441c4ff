/**
 * The seam between a secondary psarnd's scheduler (when to refresh which zone:
 * src/secondary/secondary.ts) and its transfer engine (how a zone is fetched from the primary and
 * applied to the local store: src/secondary/transfer-client.ts). docs/design.md#secondary-mode
 */
import type { HostPort } from '../config/config.js';
import type { TsigKey } from '../wire/tsig.js';

/** Where a secondary transfers from: config secondary.primary, signed with secondary.key. */
export interface Primary {
  address: HostPort;
  /** Signs every query, transfer and NOTIFY answer; undefined: unsigned (tests, a trusted link). */
  key?: TsigKey;
}

/** The SOA fields a secondary's timers use (RFC 1035 §3.3.13, RFC 1996 §3). */
export interface SoaInfo {
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
  /**
   * The EXPIRE option (RFC 7314 §3) of the primary's reply, when it sent one: the seconds its
   * own copy has left (a secondary of a secondary). The expire timer then runs from it
   * (docs/design.md#secondary-mode).
   */
  expireLeft?: number;
}

/** What one refresh of a zone did. */
export type RefreshOutcome =
  /** The primary's serial is not ahead of ours (RFC 1982): nothing transferred. */
  | { kind: 'current'; serial: number; soa: SoaInfo }
  /** Incremental: the difference from `from` applied in one transaction. */
  | { kind: 'ixfr'; from: number; serial: number; soa: SoaInfo; routes: number; bytes: number; messages: number }
  /** The whole zone, replacing the local copy in one transaction; `reason` says why not IXFR. */
  | {
      kind: 'axfr';
      from: number | undefined;
      serial: number;
      soa: SoaInfo;
      routes: number;
      bytes: number;
      messages: number;
      reason: string;
    };

/** The transfer engine, as the scheduler sees it (a fake in the scheduler's unit tests). */
export interface ZoneTransferer {
  /** The primary's SOA of `zone` (UDP, then TCP when truncated), signed with the key. */
  soa(zone: string, signal?: AbortSignal): Promise<SoaInfo>;
  /**
   * Brings the local copy of `zone` to the primary's serial: IXFR from the local serial, AXFR
   * when there is no local copy or the primary answers with the whole zone; applied to the store
   * in one transaction, journaled with actor 'primary:<host:port>'. Nothing is applied when any
   * message fails to verify or parse.
   */
  refresh(zone: string, signal?: AbortSignal): Promise<RefreshOutcome>;
  /** The member zones the primary's catalog `catalogZone` lists (RFC 9432), by AXFR. */
  catalogMembers(catalogZone: string, signal?: AbortSignal): Promise<string[]>;
  /** Deletes a zone the catalog no longer lists from the local copy (one transaction). */
  dropZone(zone: string): void;
}
