/**
 * `tandem`: the isomorphic entry point — actor definitions, the registry, errors and types.
 * Imports nothing from Node, so browsers can import it for types and shared code.
 * @public
 */
export { actor, event, RESERVED_ACTION_NAMES } from "./actor.ts";
export type {
  ActorConfig,
  ActorDefinition,
  ActorOptions,
  ActionsShape,
  AnyActorDefinition,
  ConnParams,
  EventMap,
  EventSpec,
  StandardSchemaV1,
} from "./actor.ts";
export { setup } from "./setup.ts";
export { stateVersionsOf, type StateVersions } from "./state-versions.ts";
export type { ActorDefinitions, AnyRegistry, Registry, SetupOptions } from "./setup.ts";
export type {
  ActionContext,
  ActorContext,
  AuthOptions,
  AuthRequest,
  Conn,
  ConnectOptions,
  CreateContext,
  EditContext,
  Intent,
  MigrateContext,
  Logger,
  Schedule,
} from "./context.ts";
export type {
  ActionMethod,
  ActionMethods,
  ActionsOf,
  ActorsOf,
  AuthOf,
  CreateOptions,
  EventListener,
  EventMethods,
  EventsOf,
  GetOrCreateOptions,
  HandleOptions,
  InlineAccessor,
  InlineClient,
  InlineConnection,
  InlineHandle,
  InlineHandleOptions,
  InputOf,
  ParamsOf,
  StateOf,
} from "./client-types.ts";
export {
  ActionNotFound,
  ActorAlreadyExists,
  ActorNotFound,
  ActorStopped,
  ErrorCodes,
  Forbidden,
  InternalError,
  InvalidArguments,
  InvalidState,
  MalformedFrame,
  PredictionFailed,
  ResultNotKept,
  MessageTooLarge,
  RateLimited,
  StorageCorrupt,
  StorageError,
  Superseded,
  TandemError,
  Unauthorized,
  UnknownChannel,
  UpgradeRequired,
  UserError,
  errorFromWire,
  toWireError,
} from "./errors.ts";
export type { ErrorCode, ErrorGroup, WireError } from "./errors.ts";
export { encodeKey, normalizeKey } from "./key.ts";
export type { ActorKey } from "./key.ts";
