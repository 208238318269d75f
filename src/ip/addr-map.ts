// A hash map keyed by (IP address, small integer tag) with numeric hash keys: the neighbour
// cache (tag = ifindex), the path-MTU cache and the ICMP rate limiter use it. No string keys are
// built, so lookups on the per-packet path cost a hash and a few integer compares.
// No RFC to read first; see src/wire/ip-addr.ts for the hash.
import { type IpAddr, mix32 } from '../wire/ip-addr.js';

interface Slot<V> {
  readonly addr: IpAddr;
  readonly tag: number;
  value: V;
  next: Slot<V> | undefined;
}

/** The numeric key of (addr, tag): the address hash mixed with the tag. */
export const addrKey = (addr: IpAddr, tag: number): number => mix32(addr.hash() ^ Math.imul(tag + 1, 0x9e3779b1));

/** A map from (IpAddr, tag) to values; collisions chain. Iteration follows insertion order of hash buckets. */
export class AddrMap<V> {
  private readonly buckets = new Map<number, Slot<V>>();
  private count = 0;

  /** Number of entries. */
  get size(): number {
    return this.count;
  }

  /** The value for (addr, tag), or undefined. */
  get(addr: IpAddr, tag = 0): V | undefined {
    for (let s = this.buckets.get(addrKey(addr, tag)); s !== undefined; s = s.next) {
      if (s.tag === tag && s.addr.equals(addr)) return s.value;
    }
    return undefined;
  }

  /** Sets the value for (addr, tag). */
  set(addr: IpAddr, tag: number, value: V): void {
    const key = addrKey(addr, tag);
    const head = this.buckets.get(key);
    for (let s = head; s !== undefined; s = s.next) {
      if (s.tag === tag && s.addr.equals(addr)) {
        s.value = value;
        return;
      }
    }
    this.buckets.set(key, { addr, tag, value, next: head });
    this.count++;
  }

  /** Removes (addr, tag); returns whether it was present. */
  delete(addr: IpAddr, tag = 0): boolean {
    const key = addrKey(addr, tag);
    let prev: Slot<V> | undefined;
    for (let s = this.buckets.get(key); s !== undefined; prev = s, s = s.next) {
      if (s.tag !== tag || !s.addr.equals(addr)) continue;
      if (prev !== undefined) prev.next = s.next;
      else if (s.next !== undefined) this.buckets.set(key, s.next);
      else this.buckets.delete(key);
      this.count--;
      return true;
    }
    return false;
  }

  /** Removes everything. */
  clear(): void {
    this.buckets.clear();
    this.count = 0;
  }

  /** All values (a snapshot is not taken: do not insert while iterating; deleting the current entry is safe). */
  *values(): IterableIterator<V> {
    for (const head of this.buckets.values()) {
      for (let s: Slot<V> | undefined = head; s !== undefined; ) {
        const next: Slot<V> | undefined = s.next;
        yield s.value;
        s = next;
      }
    }
  }

  /** The first value in iteration order (roughly the oldest bucket), for eviction. */
  first(): V | undefined {
    for (const head of this.buckets.values()) return head.value;
    return undefined;
  }
}
