/**
 * Gathers calls made in the same turn of the event loop (up to `maxSize`) and runs them as one
 * batch: many concurrent task claims or completions become one database transaction. Each caller
 * gets its own result; a failed batch fails every caller in it.
 */
export class Batcher<In, Out> {
  #pending: Array<{ item: In; resolve: (out: Out) => void; reject: (error: unknown) => void }> = [];
  #scheduled = false;

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly maxSize = 100,
    /** Wait this long (ms) for more calls before a batch runs; 0: the end of the current turn. */
    private readonly lingerMs = 0,
  ) {}

  add(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      if (this.#pending.length >= this.maxSize) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        if (this.lingerMs > 0) setTimeout(() => this.#flush(), this.lingerMs);
        else setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#pending.splice(0, this.maxSize);
    if (batch.length === 0) return;
    if (this.#pending.length > 0 && !this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.#flush());
    }
    this.run(batch.map((b) => b.item)).then(
      (outs) => {
        for (const [i, b] of batch.entries()) b.resolve(outs[i] as Out);
      },
      (error) => {
        for (const b of batch) b.reject(error);
      },
    );
  }
}
