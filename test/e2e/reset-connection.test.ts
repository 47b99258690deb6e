/**
 * Attack: a backend that resets, half-closes or stalls the connection at each stage of a request. Every command
 * that dispatches ends with exit 5 and one clear error line, every time, on every runtime: never a silent 0.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dispatch } from "../../src/dispatch/client.ts";
import { DispatchError } from "../../src/errors.ts";
import { fakeEnv } from "../../src/env.ts";
import { availableRuntimes, runCli } from "./helpers.ts";

type Stage = "accept" | "request-line" | "headers" | "response-headers" | "mid-body" | "half-close" | "stall";

/** A raw TCP server that misbehaves at `stage` on every connection. */
async function rawServer(stage: Stage): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => undefined);
    if (stage === "accept") return void socket.resetAndDestroy();
    let seen = "";
    socket.on("data", (chunk: Buffer) => {
      seen += chunk.toString("latin1");
      if (stage === "request-line" && seen.includes("\r\n")) socket.resetAndDestroy();
      else if (stage === "headers" && seen.includes("\r\n\r\n")) socket.resetAndDestroy();
      else if (stage === "response-headers" && seen.includes("\r\n\r\n")) socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n", () => socket.resetAndDestroy());
      else if (stage === "mid-body" && seen.includes("\r\n\r\n")) socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"ok":true,"exitCode":0,"std', () => socket.resetAndDestroy());
      else if (stage === "half-close" && seen.includes("\r\n\r\n")) socket.end();
      // stall: read everything, answer nothing
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

const STAGES: Stage[] = ["accept", "request-line", "headers", "response-headers", "mid-body", "half-close"];

describe("the dispatch client settles on every socket error, at any moment of the request", () => {
  for (const stage of [...STAGES, "stall" as const]) {
    it(`${stage}: a DispatchError, every time`, async () => {
      const server = await rawServer(stage);
      try {
        for (let i = 0; i < (stage === "stall" ? 2 : 20); i++) {
          const env = fakeEnv({ fetch: (...a) => fetch(...a) });
          const target = { backendUrl: server.url, token: "tok-reset", providerId: "D601", maxRetries: 0, requestTimeoutMs: 500 };
          await assert.rejects(dispatch(target, { command: "true", timeoutMs: 1000 }, env), (e) => e instanceof DispatchError && e.exitCode === 5 && !e.message.includes("\n"));
        }
      } finally {
        await server.close();
      }
    });
  }
});

describe("every dispatching command ends with exit 5 and one clear line when the connection breaks", () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), "unidesk-ci-reset-"))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const commands: [string, string[]][] = [
    ["runs", ["runs"]],
    ["logs", ["logs", "dev-20261127-162626-k3x9a2"]],
    ["doctor", ["doctor"]],
    ["cancel", ["cancel", "dev-20261127-162626-k3x9a2"]],
  ];
  for (const runtime of availableRuntimes()) {
    // A silent exit showed up in 4-5 of 10 tries of each command before (a reset at accept). 2 tries of each of the
    // 4 commands at each stage, on every runtime: a fault at one stage gets 8 tries and is missed with odds 0.55^8
    // (< 1 %), one of the whole client never; the in-process suite above tries 20 per stage. Each try is a CLI
    // start, the costly part of this file (192 before, node trying 4: 144 now).
    const tries = 2;
    for (const stage of STAGES) {
      it(`${runtime}, ${stage}: ${commands.map(([n]) => n).join(", ")} × ${tries}`, async () => {
        const server = await rawServer(stage);
        try {
          for (const [name, args] of commands) {
            for (let i = 0; i < tries; i += 4) {
              const runs = await Promise.all(Array.from({ length: Math.min(4, tries - i) }, () => runCli(runtime, args, { cwd: dir, env: { HOME: dir, UNIDESK_BACKEND_URL: server.url, UNIDESK_TOKEN: "tok-reset" } })));
              for (const r of runs) {
                assert.equal(r.code, 5, `${name}: exit ${r.code}\n${r.stdout}\n${r.stderr}`);
                const errors = r.stderr.split("\n").filter((l) => l.startsWith("error: "));
                assert.equal(errors.length, 1, `${name}: ${r.stderr}`);
                assert.doesNotMatch(r.stderr, /^\s+at /m);
              }
            }
          }
        } finally {
          await server.close();
        }
      });
    }
  }
});
