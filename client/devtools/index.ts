/**
 * `tandem/devtools`: an opt-in panel that shows what a client holds — per connection its
 * status, state, outbox, predictions, unconfirmed edits and sync progress, and which tab
 * leads. Mount it from the app (`mountDevtools(client)`); nothing of it runs until mounted.
 * @public
 */
export { mountDevtools } from "./mount-devtools.ts";
export type { DevtoolsOptions, InspectableClient } from "./mount-devtools.ts";
export type { ClientInspector, ClientSnapshot, ConnectionSnapshot, TabSnapshot } from "../inspection.ts";
export type { SyncProgress } from "../sync-progress.ts";
