/**
 * Runs async tasks one at a time, in arrival order. A Durable Object's input gate does not hold
 * other requests while it awaits `fetch()`, so every Cloudflare-touching operation of a domain
 * goes through one of these: a second request waits for the first and never interleaves with it.
 */
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();
  private depth = 0;

  run<T>(task: () => Promise<T>): Promise<T> {
    this.depth++;
    const result = this.tail.then(task, task);
    this.tail = result.then(
      () => this.depth--,
      () => this.depth--,
    );
    return result;
  }

  get pending(): number {
    return this.depth;
  }
}
