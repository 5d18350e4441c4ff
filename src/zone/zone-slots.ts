/**
 * The zones a route index serves, by slot (an entry names its zone by slot, two bytes): each
 * zone's apex in wire form and the `epoch=<n>` of its route TXTs, and the nesting rule — a name
 * belongs to the deepest zone that contains it, as the answer function's findZone decides.
 */
import { parseName } from '../wire/name.js';
import { epochText } from './route-wire.js';

interface Slot {
  name: string;
  /** Wire form, lowercase, root label included. */
  apex: Buffer;
  valid: boolean;
  epoch: Buffer;
  /**
   * The zone serial the slot's routes are as of (set with the epoch by ZoneSync's pickup): the
   * serial a caller is recorded with (docs/design.md#the-caller-map).
   */
  serial: number;
}

const MAX_ZONES = 0x10000;

export class ZoneSlots {
  readonly #slots: Slot[] = [];
  readonly #byName = new Map<string, number>();

  /** Slots as a snapshot lists them: a zone's name, '' for a dropped one; epochs start at 0. */
  constructor(names: readonly string[] = []) {
    for (const name of names) {
      if (name !== '') this.#byName.set(name, this.#slots.length);
      this.#slots.push({ name, apex: apexWire(name || '.'), valid: name !== '', epoch: epochText(0), serial: 0 });
    }
  }

  /** The slot of a declared zone, or undefined. */
  slotOf(name: string): number | undefined {
    return this.#byName.get(name);
  }

  /** Declared zones' slots. */
  live(): IterableIterator<number> {
    return this.#byName.values();
  }

  apex(slot: number): Buffer {
    return this.#slots[slot]!.apex;
  }

  /** Whether the slot's zone is still declared (an entry of a dropped zone is never found). */
  valid(slot: number): boolean {
    return this.#slots[slot]!.valid;
  }

  /** The `epoch=<n>` of the zone's route TXTs. */
  epoch(slot: number): Buffer {
    return this.#slots[slot]!.epoch;
  }

  /** The zone serial of the slot's routes. */
  serial(slot: number): number {
    return this.#slots[slot]!.serial;
  }

  /** Updates a declared zone's epoch and serial. @returns false when the zone is not declared. */
  setEpoch(name: string, epoch: number, serial: number): boolean {
    const slot = this.#byName.get(name);
    if (slot === undefined) return false;
    const s = this.#slots[slot]!;
    s.epoch = epochText(epoch);
    s.serial = serial;
    return true;
  }

  /**
   * Declares a zone. @returns its slot and, for each declared zone that encloses it, the labels
   * between the two apexes: the enclosing zone's names ending in them are now the new zone's.
   */
  declare(name: string, epoch: number, serial = 0): { slot: number; covers: { slot: number; below: Buffer }[] } {
    if (this.#slots.length >= MAX_ZONES && !this.#slots.some((s) => !s.valid && s.name === name)) {
      throw new RangeError('more than 65536 zones in one route index');
    }
    const apex = apexWire(name);
    const covers: { slot: number; below: Buffer }[] = [];
    for (const outer of this.#byName.values()) {
      const outerApex = this.#slots[outer]!.apex;
      if (outerApex.length < apex.length && endsWithLabels(apex, apex.length, outerApex)) {
        covers.push({ slot: outer, below: apex.subarray(0, apex.length - outerApex.length) });
      }
    }
    // A zone dropped and declared again (a reload) takes its old slot back: drop() removed its entries.
    let slot = this.#slots.findIndex((s) => !s.valid && s.name === name);
    if (slot < 0) {
      slot = this.#slots.length;
      this.#slots.push({ name, apex, valid: true, epoch: epochText(epoch), serial });
    } else {
      this.#slots[slot] = { name, apex, valid: true, epoch: epochText(epoch), serial };
    }
    this.#byName.set(name, slot);
    return { slot, covers };
  }

  /** Forgets a zone. @returns its slot, or undefined when it was not declared. */
  drop(name: string): number | undefined {
    const slot = this.#byName.get(name);
    if (slot === undefined) return undefined;
    this.#byName.delete(name);
    this.#slots[slot]!.valid = false;
    return slot;
  }

  /** Whether the wire name `name[0, len)` lies in a declared zone deeper than `slot`'s (which then answers it). */
  inDeeperZone(slot: number, name: Uint8Array, len: number): boolean {
    const own = this.#slots[slot]!.apex.length;
    for (const other of this.#byName.values()) {
      const apex = this.#slots[other]!.apex;
      if (other !== slot && apex.length > own && endsWithLabels(name, len, apex)) return true;
    }
    return false;
  }

  /** Names by slot, '' for dropped ones: what a snapshot keeps. */
  names(): string[] {
    return this.#slots.map((s) => (s.valid ? s.name : ''));
  }
}

/**
 * Whether the wire labels in name[0, len) end with the bytes `suffix` at a label boundary
 * (suffix: whole labels, with or without the root label, like the name).
 */
export function endsWithLabels(name: Uint8Array, len: number, suffix: Uint8Array): boolean {
  const at = len - suffix.length;
  if (at < 0) return false;
  let p = 0;
  while (p < at) p += 1 + name[p]!;
  if (p !== at) return false;
  for (let i = 0; i < suffix.length; i++) if (name[at + i] !== suffix[i]) return false;
  return true;
}

/** An absolute lowercase zone name ("a.b." or "."; presentation escapes allowed) in wire form, root label included. */
function apexWire(name: string): Buffer {
  const parts: Uint8Array[] = [];
  for (const label of parseName(name)) parts.push(Uint8Array.of(label.length), label);
  parts.push(Uint8Array.of(0));
  return Buffer.concat(parts);
}
