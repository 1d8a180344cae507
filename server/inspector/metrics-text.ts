/**
 * `/metrics`: the server's figures as one Prometheus exposition, built when scraped (the hot
 * path only bumps numbers): per actor kind its actions, edits, errors, latencies, commits,
 * driver append times, events, connections and loaded actors; server-wide the network.
 */
import type { ActorRuntime } from "../runtime/actor-runtime.ts";
import { Exposition } from "./prometheus.ts";
import type { ServerMetrics } from "./server-metrics.ts";

/** What the network holds now (createServer's `server.network`, and channels). */
export interface NetworkGauges {
  readonly sockets: number;
  readonly channels: number;
  readonly queuedBytes: number;
  readonly pendingActionBytes: number;
}

export function metricsText(metrics: ServerMetrics, runtime: ActorRuntime, network: NetworkGauges): string {
  const out = new Exposition();
  const kinds = [...metrics.kinds.values()];

  out.family("tandem_actions_total", "counter", "Actions run, by actor kind and outcome (ok or an error code).");
  for (const kind of kinds) for (const [outcome, n] of kind.actions) out.sample("tandem_actions_total", { actor: kind.name, outcome }, n);
  out.family("tandem_edits_total", "counter", "Direct edits, by actor kind and outcome (ok or an error code).");
  for (const kind of kinds) for (const [outcome, n] of kind.edits) out.sample("tandem_edits_total", { actor: kind.name, outcome }, n);
  out.family("tandem_errors_total", "counter", "Actions and edits that failed, by actor kind and error code.");
  for (const kind of kinds) for (const [code, n] of kind.errors) out.sample("tandem_errors_total", { actor: kind.name, code }, n);
  out.family("tandem_action_duration_seconds", "histogram", "Time from an action's call to its durable answer (queue, run, durable gate).");
  for (const kind of kinds) out.histogram("tandem_action_duration_seconds", { actor: kind.name }, kind.actionSeconds);
  out.family("tandem_commits_total", "counter", "Commits made durable by the driver, by actor kind.");
  for (const kind of kinds) out.sample("tandem_commits_total", { actor: kind.name }, kind.commits);
  out.family("tandem_commit_failures_total", "counter", "Commits the driver refused, by actor kind.");
  for (const kind of kinds) out.sample("tandem_commit_failures_total", { actor: kind.name }, kind.commitFailures);
  out.family("tandem_driver_append_seconds", "histogram", "Time the driver took to make a commit durable (its fsync, shared by group commit).");
  for (const kind of kinds) out.histogram("tandem_driver_append_seconds", { actor: kind.name }, kind.appendSeconds);
  out.family("tandem_events_total", "counter", "Events delivered, by actor kind (one per emit, whatever the number of targets).");
  for (const kind of kinds) out.sample("tandem_events_total", { actor: kind.name }, kind.events);

  const loaded = new Map<string, { running: number; stopping: number; connections: number }>();
  for (const kind of kinds) loaded.set(kind.name, { running: 0, stopping: 0, connections: 0 });
  for (const instance of runtime.loaded.values()) {
    const entry = loaded.get(instance.name);
    if (entry === undefined) continue;
    if (instance.status === "running") entry.running++;
    else entry.stopping++;
    entry.connections += instance.conns.size;
  }
  out.family("tandem_actors_loaded", "gauge", "Actors loaded in this process, by actor kind and status.");
  for (const [name, entry] of loaded) {
    out.sample("tandem_actors_loaded", { actor: name, status: "running" }, entry.running);
    out.sample("tandem_actors_loaded", { actor: name, status: "stopping" }, entry.stopping);
  }
  const asleep = new Map<string, number>();
  for (const kind of kinds) asleep.set(kind.name, 0);
  for (const alarm of runtime.asleepWithAlarms.values()) if (asleep.has(alarm.name)) asleep.set(alarm.name, asleep.get(alarm.name)! + 1);
  out.family("tandem_actors_asleep_with_alarm", "gauge", "Actors asleep (not loaded) whose next schedule this process will wake them for, by actor kind.");
  for (const [name, n] of asleep) out.sample("tandem_actors_asleep_with_alarm", { actor: name }, n);
  out.family("tandem_connections", "gauge", "Live connections (WebSocket channels and inline connections) of loaded actors, by actor kind.");
  for (const [name, entry] of loaded) out.sample("tandem_connections", { actor: name }, entry.connections);

  out.family("tandem_refused_frames_total", "counter", "Frames the network answered with an error frame (malformed, rate limited, unknown channel…), by error code.");
  for (const [code, n] of metrics.refusals) out.sample("tandem_refused_frames_total", { code }, n);

  const counters = metrics.network;
  out.family("tandem_sockets", "gauge", "WebSockets open.").sample("tandem_sockets", {}, network.sockets);
  out.family("tandem_channels", "gauge", "Actor channels open over all WebSockets.").sample("tandem_channels", {}, network.channels);
  out.family("tandem_received_bytes_total", "counter", "Bytes of WebSocket frames received.").sample("tandem_received_bytes_total", {}, counters.bytesIn);
  out.family("tandem_sent_bytes_total", "counter", "Bytes of WebSocket frames sent (queued to sockets).").sample("tandem_sent_bytes_total", {}, counters.bytesOut);
  out.family("tandem_received_frames_total", "counter", "WebSocket frames received.").sample("tandem_received_frames_total", {}, counters.framesIn);
  out.family("tandem_sent_frames_total", "counter", "WebSocket frames sent.").sample("tandem_sent_frames_total", {}, counters.framesOut);
  out.family("tandem_fanout_queued_bytes", "gauge", "Bytes queued to sockets not yet taken by the kernel (server.network.queuedBytes).").sample("tandem_fanout_queued_bytes", {}, network.queuedBytes);
  out.family("tandem_pending_action_bytes", "gauge", "Bytes of action frames read and not yet answered.").sample("tandem_pending_action_bytes", {}, network.pendingActionBytes);
  return out.text();
}
