/**
 * A bounded map that drops its least recently used entry when full: the one bound for what the
 * process keeps per record (the store's parsed records, Describe's rendered instances). A Map
 * iterates in insertion order, so re-inserting on every hit keeps the oldest first.
 */
export class Lru<K, V> {
  private readonly map = new Map<K, V>();
  constructor(readonly max: number) {}

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const hit = this.map.get(key);
    if (hit === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, hit);
    return hit;
  }

  set(key: K, value: V): void {
    if (this.max === 0) return;
    this.map.delete(key);
    this.map.set(key, value);
    if (this.map.size > this.max) {
      const oldest = this.map.keys().next().value as K;
      this.map.delete(oldest);
    }
  }
}
