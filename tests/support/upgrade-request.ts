/**
 * A hand-made WebSocket upgrade request (with whatever headers a test wants, which `ws`
 * would not send as given): its status — 101 when it upgraded, else the HTTP answer's. The
 * socket is left open from our side, as a careless or hostile client would.
 */
import * as http from "node:http";

export function upgradeStatus(baseUrl: string, path: string, headers: Record<string, string> = {}): Promise<number> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: url.hostname,
      port: url.port,
      path,
      agent: false,
      headers: { ...headers, Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==" },
    });
    request.on("upgrade", (_response, socket) => {
      socket.destroy();
      resolve(101);
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}
