/**
 * The queue of one actor's operations: they run one at a time, in the order they were
 * asked for. Appends are the exception that makes group commit: an append joins the batch
 * of the last queued (not yet running) flush, so every append that arrives while a write +
 * fsync runs is carried by the next one — and still after everything asked for before it.
 */
type Op<Item> = { readonly kind: "task"; run(): Promise<void> } | { readonly kind: "flush"; readonly batch: Item[] };

export class OpQueue<Item> {
  private readonly ops: Op<Item>[] = [];
  private running = false;
  private idleWaiters: (() => void)[] = [];

  /**
   * @param flush writes one batch; it settles each item itself and must not throw.
   * @param drained called whenever the queue runs empty.
   */
  constructor(
    private readonly flush: (batch: Item[]) => Promise<void>,
    private readonly drained: () => void,
  ) {}

  /** Runs `fn` once everything queued before it is done. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => this.push({ kind: "task", run: () => fn().then(resolve, reject) }));
  }

  /** Adds an item to the next flush. */
  add(item: Item): void {
    const last = this.ops[this.ops.length - 1];
    if (last?.kind === "flush") last.batch.push(item);
    else this.push({ kind: "flush", batch: [item] });
  }

  /** Resolves once everything queued before it is done. */
  barrier(): Promise<void> {
    return this.run(async () => undefined);
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (!this.running && this.ops.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private push(op: Op<Item>): void {
    this.ops.push(op);
    if (!this.running) void this.pump();
  }

  private async pump(): Promise<void> {
    this.running = true;
    try {
      for (let op = this.ops.shift(); op !== undefined; op = this.ops.shift()) {
        if (op.kind === "task") await op.run();
        else await this.flush(op.batch);
      }
    } finally {
      this.running = false;
      for (const wake of this.idleWaiters.splice(0)) wake();
      this.drained();
    }
  }
}
