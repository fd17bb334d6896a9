import { existsSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import sirv from "sirv";

/** Where `npm run build` puts the console (console/ built by Vite): dist/console beside dist/src. */
export const CONSOLE_DIR = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "console");

/**
 * The web console's static files under `/console/`. Hashed assets are cached for good; index.html
 * is revalidated. The page signs every request in the browser, so it must never be framed by
 * another site or load code from elsewhere: a strict Content-Security-Policy says so.
 */
export function consoleHandler(dir = CONSOLE_DIR): (req: IncomingMessage, res: ServerResponse) => void {
  const built = existsSync(join(dir, "index.html"));
  const serve = built
    ? sirv(dir, {
        etag: true,
        dotfiles: false,
        setHeaders(res, pathname) {
          res.setHeader(
            "Cache-Control",
            pathname.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
          );
          res.setHeader(
            "Content-Security-Policy",
            "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
          );
          res.setHeader("X-Content-Type-Options", "nosniff");
          res.setHeader("Referrer-Policy", "no-referrer");
        },
      })
    : undefined;
  return (req, res) => {
    const url = req.url ?? "/console";
    if (url === "/console" || url.startsWith("/console?")) {
      res.writeHead(301, { Location: `/console/${url.slice("/console".length)}` });
      res.end();
      return;
    }
    const notFound = (why: string) => {
      res.writeHead(404, { "Content-Type": "text/plain; charset=utf-8" });
      res.end(why);
    };
    if (!serve)
      return notFound(
        "The console is not built: run npm run build (it builds console/ into dist/console).\n",
      );
    if (req.method !== "GET" && req.method !== "HEAD") return notFound("Not found\n");
    req.url = url.slice("/console".length) || "/";
    serve(req, res, () => notFound("Not found\n"));
  };
}
