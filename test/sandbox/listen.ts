/** Loopback listening and hard stops for the sandbox's servers. */
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";

/** The raw sockets of a server, including ones still in a TLS or SSH handshake, which close() would wait for. */
export class SocketTracker {
  readonly #sockets = new Set<Duplex>();
  /** Use as the server's "connection" listener. */
  readonly track = (socket: Duplex): void => {
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
  };
  /** Destroys every socket still open. */
  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

/** A server that can listen on a host and port (node:http, node:https, node:net). */
interface Listenable {
  listen(port: number, host: string, callback: () => void): unknown;
  once(event: "error", listener: (error: Error) => void): unknown;
  address(): AddressInfo | string | null;
}

/** Listens on 127.0.0.1 (`port` 0: a free one) and returns the port. */
export async function listenOnLoopback(server: Listenable, port = 0): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
