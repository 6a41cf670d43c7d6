/**
 * Facts for the workers/deploy checks: the deploy facts gathered from a fixture app dir (or a temp dir written
 * by the test) the way doctor gathers them, attached to a minimal Facts object.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { FactsWithDeploy } from "../../src/checks/deploy/common.js";
import { gatherDeployFacts } from "../../src/deploy/gather.js";
import type { ConfigValue } from "../../src/facts/types.js";

export const DEPLOY_FIXTURES = fileURLToPath(new URL("../fixtures/deploy/", import.meta.url));

export async function factsForDir(
  dir: string,
  opts: { env?: Record<string, string>; schedulerTimezone?: ConfigValue[] } = {},
): Promise<FactsWithDeploy> {
  const env = opts.env ?? {};
  const deploy = await gatherDeployFacts(dir, env);
  return {
    env,
    app: {
      dir,
      schedulerTimezone: opts.schedulerTimezone ?? [],
      flaskApscheduler: { imported: false, constructs: [] },
      bareSchedulers: [],
      filesScanned: 0,
    },
    deploy,
  } as unknown as FactsWithDeploy;
}

export function fixtureFacts(
  name: string,
  opts: Parameters<typeof factsForDir>[1] = {},
): Promise<FactsWithDeploy> {
  return factsForDir(join(DEPLOY_FIXTURES, name), opts);
}

/** A temp app dir with the given files; removed by the returned cleanup. */
export function tempApp(files: Record<string, string>): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "schedctl-deploy-"));
  for (const [p, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), content);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
