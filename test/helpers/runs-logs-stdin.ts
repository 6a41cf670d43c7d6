/**
 * Child process for the big-stream test: analyzeLogs(["-"]) over whatever is piped in, sampling its own RSS
 * every 100 ms, then one JSON line on stdout: the report's counts, the time taken and the memory seen.
 */
import { analyzeLogs } from "../../src/runs/logs.js";

const rss: number[] = [];
const t0 = performance.now();
const cpu0 = process.cpuUsage();
const timer = setInterval(() => rss.push(process.memoryUsage().rss), 100);
const report = await analyzeLogs(["-"]);
clearInterval(timer);
const cpu = process.cpuUsage(cpu0);
rss.push(process.memoryUsage().rss);
// the first second is start-up and warm-up; growth is measured from there
const warm = rss[Math.min(10, rss.length - 1)] ?? 0;
process.stdout.write(
  `${JSON.stringify({
    files: report.files,
    jobs: report.jobs,
    runs: report.runs,
    duplicates: report.duplicates.length,
    truncatedDuplicates: report.truncatedDuplicates,
    firstDuplicate: report.duplicates[0] ?? null,
    ms: Math.round(performance.now() - t0),
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    rssWarmMiB: Math.round(warm / 1048576),
    rssMaxSampledMiB: Math.round(Math.max(...rss) / 1048576),
    maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
  })}\n`,
);
