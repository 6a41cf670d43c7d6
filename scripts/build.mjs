// Bundles src/main.ts into dist/cli.js as ESM with code splitting, so each command (and the heavy modules it
// imports: ioredis, execa) is its own chunk loaded only when that command runs.
import { readFileSync, rmSync } from "node:fs";
import { build } from "esbuild";

const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: "src/main.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  minify: true,
  legalComments: "linked",
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies (ioredis) call require(); ESM output needs one.
  banner: {
    js: "import { createRequire as __schedctlCreateRequire } from 'node:module'; const require = __schedctlCreateRequire(import.meta.url);",
  },
  define: { __SCHEDCTL_VERSION__: JSON.stringify(pkg.version) },
  logLevel: "warning",
});
