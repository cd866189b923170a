/**
 * Gathers calls made together (in the same turn of the event loop, up to `maxSize`: every callback
 * of one poll, so the requests that arrived on many sockets at once) and runs them as one batch:
 * many concurrent task claims or completions become one database statement. Each caller gets its
 * own result; a failed batch fails every caller in it.
 *
 * With `maxInFlight`, at most that many batches run at once: calls made while they run wait and
 * go together into the next one (group commit), so batches grow with the load instead of their
 * number. A call made while nothing runs still goes at once.
 */
export class Batcher<In, Out> {
  #pending: Array<{ item: In; resolve: (out: Out) => void; reject: (error: unknown) => void }> = [];
  #scheduled = false;
  #inFlight = 0;

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly maxSize = 100,
    /** Wait this long (ms) for more calls before a batch runs; 0: once this turn's callbacks are done (setImmediate). */
    private readonly lingerMs = 0,
    /** Batches running at once; more calls wait for one of them to end. */
    private readonly maxInFlight = Number.POSITIVE_INFINITY,
  ) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.maxSize && this.#inFlight < this.maxInFlight) this.#flush();
      else this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#pending.length === 0 || this.#inFlight >= this.maxInFlight) return;
    this.#scheduled = true;
    if (this.lingerMs > 0) setTimeout(() => this.#flush(), this.lingerMs);
    else setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#inFlight >= this.maxInFlight) return;
    const batch = this.#pending.splice(0, this.maxSize);
    if (batch.length === 0) return;
    this.#inFlight += 1;
    this.#schedule();
    const settled = () => {
      this.#inFlight -= 1;
      this.#schedule();
    };
    this.run(batch.map((b) => b.item)).then(
      (outs) => {
        settled();
        for (const [i, b] of batch.entries()) b.resolve(outs[i] as Out);
      },
      (error) => {
        settled();
        for (const b of batch) b.reject(error);
      },
    );
  }
}
