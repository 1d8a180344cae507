/**
 * A benchmark server in its own process: `server-process.ts <system> <options JSON>` loads
 * bench/servers/<system>.ts and answers its parent over IPC: start, memory (after an optional
 * full GC; it runs with --expose-gc), reset-peak, cpu (process.cpuUsage), command (the module's own commands, e.g.
 * seeding), profile-start / profile-stop (a V8 CPU profile of a phase, written to a file),
 * stop. The heap (used + external) is sampled every 5 ms for its peak; the RSS peak is the
 * kernel's, read by the parent from /proc.
 */
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { getHeapStatistics } from "node:v8";
import type { Figures } from "./harness.ts";

export interface StartedServer {
  readonly port: number;
  readonly info?: Figures;
  /** Module-specific commands. */
  readonly commands?: Record<string, (args: unknown) => unknown>;
  close(): Promise<void>;
}

const [system, optionsJson] = process.argv.slice(2);
const options = JSON.parse(optionsJson ?? "{}") as Figures;

const heapNow = () => {
  const heap = getHeapStatistics(); // cheaper than process.memoryUsage(), which also reads the RSS
  return heap.used_heap_size + heap.external_memory;
};
let profiler: Session | undefined;
let peakHeap = heapNow();
const sampler = setInterval(() => {
  const heap = heapNow();
  if (heap > peakHeap) peakHeap = heap;
}, 5);
sampler.unref();

const gc = (globalThis as { gc?: () => void }).gc;
let server: StartedServer | undefined;

// The parent going away (killed for a timeout) takes this server with it.
process.on("disconnect", () => process.exit(0));

process.on("message", async (message: { id: number; type: string; args?: unknown }) => {
  const reply = (value: unknown) => process.send!({ id: message.id, ok: true, value });
  try {
    switch (message.type) {
      case "start": {
        const module = (await import(`../servers/${system}.ts`)) as { start(options: Figures): Promise<StartedServer> };
        server = await module.start(options);
        gc?.();
        peakHeap = heapNow();
        reply({ port: server.port, info: server.info ?? {} });
        break;
      }
      case "memory": {
        if ((message.args as { gc?: boolean } | undefined)?.gc && gc) {
          gc();
          await new Promise((resolve) => setImmediate(resolve));
          gc();
        }
        const heap = heapNow();
        if (heap > peakHeap) peakHeap = heap;
        reply({ heap, peakHeap });
        break;
      }
      case "cpu": {
        const { user, system } = process.cpuUsage();
        reply({ user, system });
        break;
      }
      case "reset-peak":
        peakHeap = heapNow();
        reply(null);
        break;
      case "command": {
        const { name, args } = message.args as { name: string; args: unknown };
        const command = server?.commands?.[name];
        if (!command) throw new Error(`${system} has no command ${name}`);
        reply(await command(args));
        break;
      }
      case "profile-start":
        profiler = new Session();
        profiler.connect();
        await profiler.post("Profiler.enable");
        await profiler.post("Profiler.start");
        reply(null);
        break;
      case "profile-stop": {
        const { profile } = (await profiler!.post("Profiler.stop")) as { profile: unknown };
        profiler!.disconnect();
        profiler = undefined;
        writeFileSync((message.args as { file: string }).file, JSON.stringify(profile));
        reply(null);
        break;
      }
      case "stop":
        await server?.close();
        reply(null);
        setImmediate(() => process.exit(0));
        break;
      default:
        throw new Error(`unknown message ${message.type}`);
    }
  } catch (error) {
    process.send!({ id: message.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
