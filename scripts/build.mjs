// Bundles src/cli.ts into dist/ as ESM with code splitting, so each command (and the heavy modules it
// imports: ioredis, execa) is its own chunk loaded only when that command runs.
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
await build({
  entryPoints: { cli: "src/cli.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  legalComments: "linked",
  chunkNames: "chunks/[name]-[hash]",
  // CommonJS dependencies (ioredis) call require(); ESM output needs one.
  banner: {
    js: "import { createRequire as __schedctlCreateRequire } from 'node:module'; const require = __schedctlCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
