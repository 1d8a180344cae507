/** The board's live connection, as the components get it from `useActor`. */
import type { ActorConnection } from "tandem/client";
import type { Registry } from "../actors.ts";

export type BoardConnection = ActorConnection<Registry["actors"]["board"]>;
