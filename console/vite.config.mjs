// The web console's build: console/ → dist/console, served by the server at /console/.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

const here = fileURLToPath(new URL(".", import.meta.url));

export default defineConfig({
  root: here,
  base: "/console/",
  // Everything is bundled from npm and this repository: the page loads nothing from elsewhere.
  build: {
    outDir: fileURLToPath(new URL("../dist/console", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    assetsInlineLimit: 0,
    reportCompressedSize: false,
  },
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  server: { fs: { allow: [fileURLToPath(new URL("..", import.meta.url))] } },
  logLevel: "warn",
});
