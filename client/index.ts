/**
 * `tandem/client`: the client for browsers and Node. The network client (`createClient`)
 * is built on the protocol in shared/protocol; until then this entry exposes the typed
 * façade every client shares.
 * @public
 */
export type {
  ActionMethod,
  ActionMethods,
  CreateOptions,
  EventListener,
  EventMethods,
  GetOrCreateOptions,
  HandleOptions,
} from "../shared/client-types.ts";
