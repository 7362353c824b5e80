import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on every Linux this runs on). */
const CLOCK_TICKS = 100;

/** Resident set size of a process in bytes (`VmRSS` of /proc/<pid>/status), or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

interface StatLine {
  ppid: number;
  /** utime + stime, milliseconds. */
  cpuMs: number;
  /** cutime + cstime: CPU of children this process has waited for (reaped), milliseconds. */
  reapedCpuMs: number;
}

function readStat(pid: number): StatLine | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); ppid is field 4, utime 14, stime 15.
    const ppid = Number(fields[1]);
    const ticks = Number(fields[11]) + Number(fields[12]);
    const childTicks = Number(fields[13]) + Number(fields[14]);
    return { ppid, cpuMs: (ticks * 1000) / CLOCK_TICKS, reapedCpuMs: (childTicks * 1000) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used so far, milliseconds. */
export function cpuMs(pid: number): number | undefined {
  return readStat(pid)?.cpuMs;
}

/** Every live descendant of `pid` (children, grandchildren, …), read from /proc. */
export function descendants(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry));
    children.set(stat.ppid, list);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of children.get(queue.shift()!) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** The command name of a process (`/proc/<pid>/comm`, e.g. "node", "sh"), or undefined once it is gone. */
export function processName(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Descendants of `pid` that run Node.js (the MCP servers; shells and watchdogs left out). */
export function nodeDescendants(pid: number): number[] {
  return descendants(pid).filter((child) => processName(child) === 'node');
}

/** Busy and total CPU time of the whole machine so far (from the `cpu` line of /proc/stat), milliseconds. */
export function machineCpu(): { busyMs: number; totalMs: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
    const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const busy = user! + nice! + system! + irq! + softirq! + steal!;
    return { busyMs: (busy * 1000) / CLOCK_TICKS, totalMs: ((busy + idle! + iowait!) * 1000) / CLOCK_TICKS };
  } catch {
    return { busyMs: 0, totalMs: 0 };
  }
}

/** A named group of processes whose RSS and CPU time are reported together (e.g. every upstream child). */
export interface WatchedProcess {
  role: string;
  /** The pids of this role right now (a role such as "upstream" may be several processes). */
  pids(): number[];
  /**
   * A parent whose reaped children belong to this role too (their CPU shows up in its cutime once
   * they exit): for short-lived upstream processes, e.g. one per request.
   */
  reapedBy?: () => number | undefined;
}

export interface MachineUsage {
  /** CPU used by every process that is not watched (other work on the machine), % of all cores. */
  foreignCpuPercent: number;
}

export interface ProcessUsage {
  role: string;
  /** Highest summed RSS sampled during the measurement, bytes. */
  peakRssBytes: number;
  /** CPU time used during the measurement, milliseconds (user + system). */
  cpuMs: number;
}

/**
 * Samples RSS of each watched role every `intervalMs` and takes CPU-time readings at start and
 * stop, so a measurement can report peak memory and CPU cost per call of every process involved.
 */
export class UsageSampler {
  private readonly peaks = new Map<string, number>();
  private readonly cpuStart = new Map<string, Map<number, number>>();
  private readonly reapedStart = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;
  private readonly machineStart = machineCpu();

  constructor(
    private readonly watched: readonly WatchedProcess[],
    intervalMs = 100,
  ) {
    for (const role of watched) {
      const start = new Map<number, number>();
      for (const pid of role.pids()) start.set(pid, cpuMs(pid) ?? 0);
      this.cpuStart.set(role.role, start);
      const parent = role.reapedBy?.();
      if (parent !== undefined) this.reapedStart.set(role.role, readStat(parent)?.reapedCpuMs ?? 0);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const role of this.watched) {
      const total = role.pids().reduce((sum, pid) => sum + (rssBytes(pid) ?? 0), 0);
      this.peaks.set(role.role, Math.max(this.peaks.get(role.role) ?? 0, total));
    }
  }

  stop(): { processes: ProcessUsage[]; machine: MachineUsage } {
    clearInterval(this.timer);
    this.sample();
    const machineEnd = machineCpu();
    const processes = this.watched.map((role) => {
      const start = this.cpuStart.get(role.role) ?? new Map<number, number>();
      let used = 0;
      for (const pid of role.pids()) used += (cpuMs(pid) ?? 0) - (start.get(pid) ?? 0);
      const parent = role.reapedBy?.();
      if (parent !== undefined) used += (readStat(parent)?.reapedCpuMs ?? 0) - (this.reapedStart.get(role.role) ?? 0);
      return { role: role.role, peakRssBytes: this.peaks.get(role.role) ?? 0, cpuMs: used };
    });
    const ours = processes.reduce((sum, usage) => sum + usage.cpuMs, 0);
    const busy = machineEnd.busyMs - this.machineStart.busyMs;
    const total = machineEnd.totalMs - this.machineStart.totalMs;
    const foreign = total > 0 ? Math.max(0, (100 * (busy - ours)) / total) : 0;
    return { processes, machine: { foreignCpuPercent: Math.round(foreign) } };
  }
}
