/**
 * What this replica already knows to refuse: a key and the moment its refusal ends, as the shared
 * counters in Postgres last answered. A client that keeps knocking while over budget is answered
 * from here, without a database round trip or write. The memory only ever refuses what the database
 * refused, so it cannot admit more than the shared budget; it believes a refusal for at most
 * `maxMemoryMs` before asking the database again (an admin may have cleared it on another replica).
 */
export class RefusalMemory {
  /** The refusal's end as the database gave it, and the moment this replica stops trusting that. */
  private readonly refusals = new Map<string, { until: number; believedUntil: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly maxMemoryMs = Number.POSITIVE_INFINITY,
  ) {}

  /** @returns milliseconds until `key` may try again, or 0 when this replica knows of no refusal */
  remaining(key: string, nowMs: number): number {
    const refusal = this.refusals.get(key);
    if (refusal === undefined) return 0;
    if (refusal.believedUntil > nowMs) return refusal.until - nowMs;
    this.refusals.delete(key);
    return 0;
  }

  remember(key: string, untilMs: number, nowMs: number): void {
    if (this.refusals.size >= this.maxEntries) this.makeRoom(nowMs);
    this.refusals.delete(key);
    this.refusals.set(key, { until: untilMs, believedUntil: Math.min(untilMs, nowMs + this.maxMemoryMs) });
  }

  forget(keyPrefix: string): void {
    for (const key of this.refusals.keys()) if (key.startsWith(keyPrefix)) this.refusals.delete(key);
  }

  /** Drops what has expired, else the oldest entry: forgetting costs a database query, never safety. */
  private makeRoom(nowMs: number): void {
    for (const [key, refusal] of this.refusals) if (refusal.believedUntil <= nowMs) this.refusals.delete(key);
    if (this.refusals.size < this.maxEntries) return;
    const oldest = this.refusals.keys().next();
    if (oldest.done !== true) this.refusals.delete(oldest.value);
  }
}
