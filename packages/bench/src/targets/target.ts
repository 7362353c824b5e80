import type { McpCaller } from '../caller.js';
import type { WatchedProcess } from '../proc-stats.js';

/** A way of reaching the fixture server: direct stdio, supergateway, or the mesh. */
export interface BenchTarget {
  /** Stable id used in results (`direct`, `direct-sdk`, `supergateway`, `mesh`, …). */
  readonly id: string;
  /** One line saying what runs. */
  readonly description: string;
  /** Processes whose peak RSS and CPU time are reported for each measurement. */
  readonly watched: readonly WatchedProcess[];
  /** The client sessions the load generator spreads its concurrency over. */
  readonly callers: readonly McpCaller[];
  /** True when the target's own short-lived processes show up as other load (never retried for it). */
  readonly disturbsMachine?: boolean;
  /** Closes the sessions and stops every process the target started. Idempotent. */
  close(): Promise<void>;
}
