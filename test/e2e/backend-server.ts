/** A real HTTP backend on 127.0.0.1:0 in front of a fetch handler (e.g. test/cli/helpers.ts fakeBackend), for tests of the real bundle. */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** Serves `handler` over HTTP; `url` is the base URL. */
export async function serveFetch(handler: typeof fetch): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      void handler(`http://backend.test${req.url}`, { method: req.method, headers, body: Buffer.concat(chunks).toString("utf8") })
        .then(async (response) => {
          res.writeHead(response.status, { "content-type": response.headers.get("content-type") ?? "application/json" });
          res.end(Buffer.from(await response.arrayBuffer()));
        })
        .catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
