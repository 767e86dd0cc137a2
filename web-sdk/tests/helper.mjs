// The browser tests' loopback helper: serves web-sdk/ (the example page and the built package)
// and, at GET /outbox, the host's outbox file (JSON lines with the codes the host "sent"), with
// CORS so the test page on another origin can read it. Test-only: never run it next to a real
// host, the outbox holds live codes.
//   node helper.mjs <port> <outbox file> <static root>
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";

const [port, outbox, root] = process.argv.slice(2);
const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".mjs": "text/javascript",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".css": "text/css",
  ".ts": "text/plain",
};

createServer(async (req, res) => {
  const url = new URL(req.url, "http://127.0.0.1");
  res.setHeader("access-control-allow-origin", "*");
  if (url.pathname === "/outbox") {
    const text = await readFile(outbox, "utf8").catch(() => "");
    res.writeHead(200, { "content-type": "application/x-ndjson" });
    res.end(text);
    return;
  }
  const path = normalize(join(root, decodeURIComponent(url.pathname)));
  if (!path.startsWith(normalize(root))) {
    res.writeHead(403).end();
    return;
  }
  try {
    const body = await readFile(path.endsWith("/") ? join(path, "index.html") : path);
    res.writeHead(200, { "content-type": types[extname(path)] ?? "text/html; charset=utf-8" });
    res.end(body);
  } catch {
    res.writeHead(404).end("not found");
  }
}).listen(Number(port), "127.0.0.1", () => console.log(`helper on 127.0.0.1:${port}`));
