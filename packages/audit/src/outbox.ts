import { mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

export interface Segment {
  seq: number;
  path: string;
  /** Lines on disk (fdatasync'd) in this segment. */
  written: number;
  /** Lines acknowledged by JetStream. */
  acked: number;
  closed: boolean;
  bytes: number;
  /** The segment's lines in memory, while they fit the memory bound; otherwise read back from disk. */
  cache: string[] | undefined;
}

export interface OutboxOptions {
  dir: string;
  segmentLines?: number;
  /** Lines kept in memory across segments before they are read back from disk. */
  maxMemoryLines?: number;
  /** Group-commit delay: lines wait at most this long before their fdatasync, milliseconds. */
  flushMs?: number;
}

const SEGMENT = /^segment-(\d{12})\.jsonl$/;
const CURSOR = 'cursor.json';

/**
 * An append-only, fsync'd local log of events not yet acknowledged by JetStream, in segments.
 * A segment is deleted once every line in it is acknowledged; the acknowledged position of the
 * oldest segment is kept in `cursor.json` so a restart re-publishes only what was never acked.
 */
export class Outbox {
  readonly segments: Segment[] = [];
  private handle: FileHandle | undefined;
  private buffer: string[] = [];
  private flushing: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private cachedLines = 0;
  private readonly segmentLines: number;
  private readonly maxMemoryLines: number;
  private readonly flushMs: number;
  /** Called after lines become durable. */
  onDurable?: () => void;

  constructor(private readonly options: OutboxOptions) {
    this.segmentLines = options.segmentLines ?? 1_000;
    this.maxMemoryLines = options.maxMemoryLines ?? 20_000;
    this.flushMs = options.flushMs ?? 5;
  }

  /** Opens the directory and reloads segments left by an earlier run (their lines are replayed). */
  async open(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const names = (await readdir(this.options.dir)).filter((name) => SEGMENT.test(name)).sort();
    let cursor: { seq: number; acked: number } | undefined;
    try {
      cursor = JSON.parse(await readFile(join(this.options.dir, CURSOR), 'utf8')) as { seq: number; acked: number };
    } catch {
      cursor = undefined;
    }
    for (const name of names) {
      const path = join(this.options.dir, name);
      const lines = await readLines(path);
      const seq = Number(SEGMENT.exec(name)![1]);
      const acked = cursor && cursor.seq === seq ? Math.min(cursor.acked, lines.length) : 0;
      this.segments.push({
        seq,
        path,
        written: lines.length,
        acked,
        closed: true,
        bytes: lines.reduce((n, l) => n + l.length + 1, 0),
        cache: undefined,
      });
    }
    await this.startSegment((this.segments.at(-1)?.seq ?? 0) + 1);
  }

  private async startSegment(seq: number): Promise<void> {
    const path = join(this.options.dir, `segment-${String(seq).padStart(12, '0')}.jsonl`);
    this.handle = await open(path, 'a');
    this.segments.push({ seq, path, written: 0, acked: 0, closed: false, bytes: 0, cache: [] });
  }

  /** Lines not yet acknowledged, durable or still in the group-commit buffer. */
  get pendingLines(): number {
    return this.buffer.length + this.segments.reduce((sum, segment) => sum + segment.written - segment.acked, 0);
  }

  get diskBytes(): number {
    return this.segments.reduce((sum, segment) => sum + segment.bytes, 0);
  }

  /** Appends one line (no newline inside); it becomes durable within `flushMs`. */
  append(line: string): void {
    this.buffer.push(line);
    if (this.buffer.length >= 256) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  }

  /** Writes buffered lines and fdatasyncs them; rotates a full segment. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const previous = this.flushing ?? Promise.resolve();
    const run = previous.then(async () => {
      if (this.buffer.length === 0 || !this.handle) return;
      const lines = this.buffer;
      this.buffer = [];
      const current = this.segments.at(-1)!;
      const text = lines.map((line) => `${line}\n`).join('');
      await this.handle.write(text);
      await this.handle.datasync();
      current.written += lines.length;
      current.bytes += Buffer.byteLength(text);
      if (current.cache && this.cachedLines + lines.length <= this.maxMemoryLines) {
        current.cache.push(...lines);
        this.cachedLines += lines.length;
      } else if (current.cache) {
        // Over the memory bound: this segment is read back from disk when it is published.
        this.cachedLines -= current.cache.length;
        current.cache = undefined;
      }
      if (current.written >= this.segmentLines) {
        await this.handle.close();
        current.closed = true;
        await this.startSegment(current.seq + 1);
      }
      this.onDurable?.();
    });
    this.flushing = run.finally(() => {
      if (this.flushing === run) this.flushing = undefined;
    });
    return run;
  }

  /** The lines of a segment, from memory or disk. */
  async lines(segment: Segment): Promise<string[]> {
    return segment.cache ?? (await readLines(segment.path)).slice(0, segment.written);
  }

  /** Records acknowledgements; deletes fully acknowledged closed segments. */
  async acknowledge(segment: Segment, count: number): Promise<void> {
    segment.acked += count;
    if (segment.closed && segment.acked >= segment.written) {
      this.segments.splice(this.segments.indexOf(segment), 1);
      if (segment.cache) this.cachedLines -= segment.cache.length;
      await rm(segment.path, { force: true });
      return;
    }
    const tmp = join(this.options.dir, `${CURSOR}.tmp`);
    await writeFile(tmp, JSON.stringify({ seq: segment.seq, acked: segment.acked }));
    await rename(tmp, join(this.options.dir, CURSOR));
  }

  async close(): Promise<void> {
    await this.flush();
    await this.handle?.close();
    this.handle = undefined;
  }
}

async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  // A torn last line (a crash mid-write) has no newline: it was never durable.
  lines.pop();
  return lines.filter((line) => line.length > 0);
}
