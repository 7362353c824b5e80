/**
 * Preloaded into a measured process with `node --import <this file>` (the soak does this for the
 * ingress and the bridge): once a second it appends one JSON line with `process.memoryUsage()` and
 * V8's heap spaces to the file named by `MCP_MESH_BENCH_MEMORY_PROBE`, so that the harness can say
 * which part of the RSS is JavaScript heap, young generation, buffers or native memory. It does
 * nothing when the variable is unset (children that inherit the environment but not the flag).
 */
import { appendFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';

const file = process.env.MCP_MESH_BENCH_MEMORY_PROBE;
if (file) {
  // Not inherited by the processes this one starts (the bridge's upstream server).
  delete process.env.MCP_MESH_BENCH_MEMORY_PROBE;
  const sample = () => {
    const usage = process.memoryUsage();
    const spaces: Record<string, { size: number; used: number }> = {};
    for (const space of getHeapSpaceStatistics()) {
      spaces[space.space_name] = { size: space.space_size, used: space.space_used_size };
    }
    try {
      appendFileSync(file, `${JSON.stringify({ at: Date.now(), ...usage, spaces })}\n`);
    } catch {
      // a probe never disturbs the process it measures
    }
  };
  setInterval(sample, 1_000).unref();
}
