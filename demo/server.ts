/**
 * `npm start`: the demo server on http://127.0.0.1:8080 (PORT overrides it), with the file
 * driver in ./.data. Until the Vite demo app lands, the page below talks to the board
 * actor through the stateless HTTP API; the WebSocket endpoint is live at /connect.
 */
import { createServer, fileDriver } from "tandem/server";
import { registry } from "./actors.ts";

const port = Number(process.env.PORT ?? 8080);
const server = createServer(registry, { driver: fileDriver({ dir: ".data" }), logger: "warn" });

server.app.get("/", async (_request, reply) => {
  reply.type("text/html; charset=utf-8").send(PAGE);
});

const url = await server.listen({ port, host: "127.0.0.1" });
console.log(`Tandem demo on ${url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, async () => {
    await server.close();
    process.exit(0);
  });
}

const PAGE = `<!doctype html>
<meta charset="utf-8"><title>Tandem demo</title>
<style>body{font:16px system-ui;max-width:40rem;margin:3rem auto;padding:0 1rem}li{margin:.3rem 0}.err{color:#b00}</style>
<h1>Tandem board</h1>
<p>Signed in as <input id="name" value="guest" size="10"></p>
<form id="add"><input id="text" placeholder="A new todo" size="40"> <button>Add</button></form>
<p id="error" class="err"></p>
<ul id="todos"></ul>
<script type="module">
const call = async (action, ...args) => {
  const res = await fetch("/actors/board/actions/" + action, {
    method: "POST",
    headers: { "content-type": "application/json", "x-tandem-params": JSON.stringify({ name: document.getElementById("name").value }) },
    body: JSON.stringify({ key: "demo", mode: "getOrCreate", args }),
  });
  const body = await res.json();
  if (body.error) throw new Error(body.error.message);
  return body.result;
};
const render = async () => {
  const todos = await call("getTodos");
  const list = document.getElementById("todos");
  list.replaceChildren(...todos.map((t) => {
    const li = document.createElement("li");
    li.textContent = (t.done ? "✓ " : "") + t.text + " — " + t.author;
    li.onclick = () => call("toggleTodo", t.id).then(render);
    return li;
  }));
};
document.getElementById("add").onsubmit = async (event) => {
  event.preventDefault();
  const input = document.getElementById("text");
  try { await call("addTodo", input.value); input.value = ""; document.getElementById("error").textContent = ""; }
  catch (error) { document.getElementById("error").textContent = error.message; }
  render();
};
render();
setInterval(render, 2000);
</script>`;
