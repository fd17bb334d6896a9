// Checks what `npm start` and `npm test` need, with a message that says what to do.
import { createRequire } from "node:module";

const [major] = process.versions.node.split(".").map(Number);
if (major < 20) {
  console.error(`opencompshare needs Node.js 20 or newer; this is ${process.version}.`);
  process.exit(1);
}
try {
  const require = createRequire(import.meta.url);
  const Database = require("better-sqlite3");
  new Database(":memory:").close();
} catch (e) {
  console.error(
    "better-sqlite3 (the embedded SQLite store) did not load. Run `npm install` first; it builds a native\n" +
      "module, which needs python3, make and a C++ compiler when no prebuilt binary matches.\n" +
      `Cause: ${e instanceof Error ? e.message : e}`,
  );
  process.exit(1);
}
