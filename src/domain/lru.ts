/**
 * A bounded map that forgets what has not been used for a while: the one bound for what the
 * process keeps per record (the store's parsed records, Describe's rendered instances and derived
 * addresses, the kubernetes driver's last word on each pod). Two
 * generations: entries go into the young one, a hit in the old one moves the entry up, and when
 * the young one holds half the bound it becomes the old one and the old one is dropped whole. A hit
 * on a recent entry is one Map lookup (re-inserting on every hit to keep exact recency order was
 * 8% of a Describe page).
 */
export class Lru<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly half: number;

  constructor(readonly max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.young.size + this.old.size;
  }

  get(key: K): V | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged === undefined) return undefined;
    this.old.delete(key);
    this.put(key, aged);
    return aged;
  }

  set(key: K, value: V): void {
    if (this.max === 0) return;
    this.old.delete(key);
    this.put(key, value);
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  private put(key: K, value: V): void {
    this.young.set(key, value);
    if (this.young.size >= this.half) {
      this.old = this.young;
      this.young = new Map();
    }
  }
}
