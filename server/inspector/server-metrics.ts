/**
 * What the observer (observer.ts) collects for /metrics and the inspector: counters and
 * histograms per actor kind (never per key or id: the series stay as many as the kinds),
 * network counters, and per live actor its recent activity and last commit time.
 */
import { ErrorCodes, toWireError } from "../../shared/errors.ts";
import { Histogram } from "./histogram.ts";
import { type ActorObserver, EDIT_LABEL, type NetworkCounters, type ObservedActor } from "./observer.ts";
import { RecentActivity } from "./recent-activity.ts";

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/**
 * An error's code as its caller sees it (toWireError: anything not a Tandem error is an
 * internal_error), as a label value: one of ErrorCodes, else "other" — a label never takes
 * arbitrary text. Runs on failures only.
 */
export function codeOf(error: unknown): string {
  const code = toWireError(error).code;
  return KNOWN_CODES.has(code) ? code : "other";
}

/** The figures of one actor kind. */
export class KindMetrics {
  /** Actions by outcome ("ok" or an error code). */
  readonly actions = new Map<string, number>();
  /** Direct edits by outcome. */
  readonly edits = new Map<string, number>();
  /** Errors of actions and edits by code. */
  readonly errors = new Map<string, number>();
  readonly actionSeconds = new Histogram();
  readonly appendSeconds = new Histogram();
  commits = 0;
  commitFailures = 0;
  events = 0;

  constructor(readonly name: string) {}
}

/** One live actor's observer: its kind's figures, its recent activity, its last commit. */
export class InstanceObserver implements ObservedActor {
  readonly recent: RecentActivity;
  /** Epoch ms of its last durable commit (null: none since it loaded). */
  lastCommitAt: number | null = null;

  constructor(
    readonly kind: KindMetrics,
    recentEntries: number,
  ) {
    this.recent = new RecentActivity(recentEntries);
  }

  task(label: string, connId: string, startedAt: number, error: unknown): void {
    const now = performance.now();
    const outcome = error === null ? "ok" : codeOf(error);
    const kind = this.kind;
    const edit = label === EDIT_LABEL;
    const byOutcome = edit ? kind.edits : kind.actions;
    byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
    if (error !== null) kind.errors.set(outcome, (kind.errors.get(outcome) ?? 0) + 1);
    if (!edit) kind.actionSeconds.observe((now - startedAt) / 1000);
    this.recent.record(edit ? "edit" : "action", label, performance.timeOrigin + startedAt, now - startedAt, outcome, connId, 0);
  }

  appended(startedAt: number, failed: boolean): void {
    const kind = this.kind;
    if (failed) {
      kind.commitFailures++;
      return;
    }
    kind.commits++;
    kind.appendSeconds.observe((performance.now() - startedAt) / 1000);
    this.lastCommitAt = Date.now();
  }

  event(name: string, targets: number): void {
    this.kind.events++;
    this.recent.record("event", name, Date.now(), 0, "ok", null, targets);
  }
}

export class ServerMetrics implements ActorObserver {
  readonly kinds = new Map<string, KindMetrics>();
  readonly network: NetworkCounters = { bytesIn: 0, bytesOut: 0, framesIn: 0, framesOut: 0 };

  constructor(
    kindNames: Iterable<string>,
    private readonly recentEntries: number,
  ) {
    for (const name of kindNames) this.kinds.set(name, new KindMetrics(name));
  }

  /** Frames refused by the network, by error code (one of ErrorCodes, else "other"). */
  readonly refusals = new Map<string, number>();

  refused(code: string): void {
    const label = KNOWN_CODES.has(code) ? code : "other";
    this.refusals.set(label, (this.refusals.get(label) ?? 0) + 1);
  }

  actor(name: string): InstanceObserver {
    let kind = this.kinds.get(name);
    if (kind === undefined) this.kinds.set(name, (kind = new KindMetrics(name)));
    return new InstanceObserver(kind, this.recentEntries);
  }
}
