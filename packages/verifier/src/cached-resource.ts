/**
 * A JSON document fetched over HTTP and kept as long as its Cache-Control max-age allows,
 * revalidated with If-None-Match so an unchanged document costs a 304.
 */
export class CachedResource<T> {
  private value: T | undefined;
  private etag: string | undefined;
  private freshUntil = 0;
  private inFlight: Promise<T> | undefined;
  /** When the last fetch or revalidation succeeded (epoch ms), 0 if never. */
  lastSuccessAt = 0;

  constructor(
    private readonly url: string,
    private readonly parse: (json: unknown) => T,
    private readonly fetchImpl: typeof fetch,
    private readonly fallbackMaxAgeMs: number,
    /** Sent with every request (say, the caller's credentials). */
    private readonly headers: Readonly<Record<string, string>> = {},
  ) {}

  get current(): T | undefined {
    return this.value;
  }

  isFresh(now = Date.now()): boolean {
    return this.value !== undefined && now < this.freshUntil;
  }

  /** The cached value while fresh, else a revalidated one. Concurrent callers share one request. */
  async get(): Promise<T> {
    if (this.isFresh()) return this.value!;
    return this.refresh();
  }

  refresh(): Promise<T> {
    this.inFlight ??= this.load().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async load(): Promise<T> {
    const headers: Record<string, string> = { ...this.headers, accept: 'application/json' };
    if (this.etag !== undefined && this.value !== undefined) headers['if-none-match'] = this.etag;
    const response = await this.fetchImpl(this.url, { headers, redirect: 'error' });
    if (response.status !== 304) {
      if (!response.ok) throw new Error(`${this.url} answered ${response.status}`);
      this.value = this.parse(await response.json());
      this.etag = response.headers.get('etag') ?? undefined;
    }
    const maxAge = /max-age=(\d+)/.exec(response.headers.get('cache-control') ?? '')?.[1];
    this.freshUntil = Date.now() + (maxAge === undefined ? this.fallbackMaxAgeMs : Number(maxAge) * 1000);
    this.lastSuccessAt = Date.now();
    return this.value!;
  }
}
