/**
 * `npm start`: the demo server on http://127.0.0.1:8080 (PORT overrides the port).
 * Until the network layer lands this serves the board's state read through the inline
 * client, as JSON, and a small page that shows it.
 */
import { createServer as createHttpServer } from "node:http";
import { createServer } from "tandem/server";
import { registry } from "./actors.ts";

const port = Number(process.env.PORT ?? 8080);
const server = createServer(registry, { logger: "info" });
const board = server.client.board.getOrCreate("demo", { auth: { name: "server", viewer: false } });
if ((await board.getTodos()).length === 0) await board.addTodo("Try Tandem: open this board in two tabs");

const http = createHttpServer(async (req, res) => {
  if (req.url === "/api/todos") {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify(await board.getTodos()));
    return;
  }
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><title>Tandem demo</title><h1>Tandem</h1><p>The board actor is running.</p><pre id="t"></pre>
<script>fetch("/api/todos").then(r => r.json()).then(t => { document.getElementById("t").textContent = JSON.stringify(t, null, 2) })</script>`);
});
http.listen(port, "127.0.0.1", () => console.log(`Tandem demo on http://127.0.0.1:${port}`));

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    http.close();
    await server.close();
    process.exit(0);
  });
}
