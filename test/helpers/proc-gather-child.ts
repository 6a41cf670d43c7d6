/**
 * Runs gatherFileLocks in a child process and prints its result as JSON: argv = PROC_DIR [LOCK_FILE...].
 * The tests start it without CAP_DAC_OVERRIDE (setpriv) to see the "permission denied" paths as root does not.
 */
import { gatherFileLocks } from "../../src/facts/procs.js";

const [proc, ...lockFiles] = process.argv.slice(2);
const result = await gatherFileLocks({ proc, lockFiles });
process.stdout.write(JSON.stringify(result));
