import { mkdir, open, readdir, readFile, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

/** One line of the outbox, with whatever its consumer derived from it when it was appended. */
export interface OutboxEntry {
  /** The line as written to disk (no newline inside). */
  readonly line: string;
}

export interface Segment<E extends OutboxEntry = OutboxEntry> {
  seq: number;
  path: string;
  /** Lines on disk (fdatasync'd) in this segment. */
  written: number;
  /** Lines acknowledged by JetStream. */
  acked: number;
  closed: boolean;
  bytes: number;
  /** The segment's entries in memory, while they fit the memory bound; otherwise read back from disk. */
  cache: E[] | undefined;
}

export interface OutboxOptions<E extends OutboxEntry = OutboxEntry> {
  dir: string;
  segmentLines?: number;
  /** Lines kept in memory across segments before they are read back from disk. */
  maxMemoryLines?: number;
  /** Group-commit delay: lines wait at most this long before their write and fdatasync, milliseconds. */
  flushMs?: number;
  /** A group commit writes at once when this many lines are waiting, without waiting for `flushMs`. */
  maxBatchLines?: number;
  /**
   * The acknowledged position is saved at most this often, milliseconds (default 100; always on
   * close). After a crash, events acknowledged in the last `cursorMs` are published again, and
   * the stream's duplicate window drops them.
   */
  cursorMs?: number;
  /** Rebuilds an entry from a line read back from disk (a restart, or a segment past the memory bound). */
  decode?: (line: string) => E;
}

const SEGMENT = /^segment-(\d{12})\.jsonl$/;
const CURSOR = 'cursor.json';
/** The cursor is rewritten in place, always this many bytes (JSON padded with spaces). */
const CURSOR_BYTES = 64;

/**
 * An append-only, fsync'd local log of events not yet acknowledged by JetStream, in segments.
 *
 * Group commit: `append()` only queues the line in memory; the queue is written with one
 * `write` + `fdatasync` per batch, `flushMs` after the first waiting line (or at once when
 * `maxBatchLines` wait). Lines appended while a batch is being written wait for the next one.
 * A segment is deleted once every line in it is acknowledged; the acknowledged position of the
 * oldest segment is kept in `cursor.json` (rewritten in place, at most every `cursorMs`) so a
 * restart re-publishes only what was never acked, or acked in its last `cursorMs`.
 */
export class Outbox<E extends OutboxEntry = OutboxEntry> {
  readonly segments: Segment<E>[] = [];
  private handle: FileHandle | undefined;
  private cursor: FileHandle | undefined;
  private readonly cursorBuffer = Buffer.alloc(CURSOR_BYTES, 0x20);
  private buffer: E[] = [];
  /** The running group commit; resolves with its error, if it failed. */
  private writing: Promise<Error | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private cachedLines = 0;
  private durableUnacked = 0;
  /** Lines of the batch being written (neither in the buffer nor durable yet). */
  private inWrite = 0;
  private bytesOnDisk = 0;
  private readonly segmentLines: number;
  private readonly maxMemoryLines: number;
  private readonly flushMs: number;
  private readonly maxBatchLines: number;
  private readonly decode: (line: string) => E;
  /** The lines of the one closed segment being read back from disk, so each window does not re-read the file. */
  private readBack: { segment: Segment<E>; lines: string[] } | undefined;
  private cursorDue: { seq: number; acked: number } | undefined;
  private cursorTimer: NodeJS.Timeout | undefined;
  private cursorWriting: Promise<void> | undefined;
  private readonly cursorMs: number;
  private readonly cursorTick = () => void this.saveCursor();
  private readonly tick = () => {
    this.timer = undefined;
    void this.startWriter();
  };
  /** Called after lines become durable. */
  onDurable?: () => void;
  /** Called when a group commit fails (the lines stay queued and are retried at the next tick). */
  onError?: (error: Error) => void;

  constructor(private readonly options: OutboxOptions<E>) {
    this.segmentLines = options.segmentLines ?? 1_000;
    this.maxMemoryLines = options.maxMemoryLines ?? 20_000;
    this.flushMs = options.flushMs ?? 5;
    this.maxBatchLines = options.maxBatchLines ?? 512;
    this.cursorMs = options.cursorMs ?? 100;
    this.decode = options.decode ?? ((line) => ({ line }) as E);
  }

  /** Opens the directory and reloads segments left by an earlier run (their lines are replayed). */
  async open(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    const names = (await readdir(this.options.dir)).filter((name) => SEGMENT.test(name)).sort();
    const cursorPath = join(this.options.dir, CURSOR);
    this.cursor = await open(cursorPath, 'r+').catch(() => open(cursorPath, 'w+'));
    const saved = await this.cursor.readFile('utf8');
    let cursor: { seq: number; acked: number } | undefined;
    try {
      cursor = JSON.parse(saved) as { seq: number; acked: number };
    } catch {
      cursor = undefined;
    }
    for (const name of names) {
      const path = join(this.options.dir, name);
      const lines = await readLines(path);
      const seq = Number(SEGMENT.exec(name)![1]);
      const acked = cursor && cursor.seq === seq ? Math.min(cursor.acked, lines.length) : 0;
      const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      this.segments.push({ seq, path, written: lines.length, acked, closed: true, bytes, cache: undefined });
      this.durableUnacked += lines.length - acked;
      this.bytesOnDisk += bytes;
    }
    // A cursor of another size (new, or the earlier unpadded format) is rewritten as a fixed-size record.
    if (Buffer.byteLength(saved) !== CURSOR_BYTES) {
      await this.cursor.truncate(CURSOR_BYTES);
      if (cursor) await this.writeCursor(cursor.seq, cursor.acked);
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
    return this.buffer.length + this.inWrite + this.durableUnacked;
  }

  /** Bytes of the segment files on disk (lines still in the group-commit buffer not included). */
  get diskBytes(): number {
    return this.bytesOnDisk;
  }

  /** Queues one entry (a line with no newline inside); it becomes durable at the next group commit, within `flushMs`. */
  append(entry: E | string): void {
    this.buffer.push(typeof entry === 'string' ? this.decode(entry) : entry);
    // A running writer takes the new line when it finishes its batch.
    if (this.writing) return;
    if (this.buffer.length >= this.maxBatchLines) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.startWriter();
    } else this.timer ??= setTimeout(this.tick, this.flushMs);
  }

  /** Writes and fdatasyncs every line appended so far; rotates a full segment. Rejects if the write fails. */
  async flush(): Promise<void> {
    for (;;) {
      if (this.writing) {
        await this.writing;
        continue;
      }
      if (this.buffer.length === 0 || !this.handle) return;
      clearTimeout(this.timer);
      this.timer = undefined;
      const error = await this.startWriter();
      if (error) throw error;
    }
  }

  private startWriter(): Promise<Error | undefined> {
    this.writing ??= this.writeBatches().then(
      () => this.writerDone(undefined),
      (error: unknown) => {
        // The lines stay queued; the next tick retries.
        this.onError?.(error as Error);
        return this.writerDone(error as Error);
      },
    );
    return this.writing;
  }

  private writerDone(error: Error | undefined): Error | undefined {
    this.writing = undefined;
    if (this.buffer.length > 0 && this.handle) this.timer ??= setTimeout(this.tick, this.flushMs);
    return error;
  }

  /** One batch, then more while a full batch waits (`flush()` starts writers until nothing waits). */
  private async writeBatches(): Promise<void> {
    do {
      await this.writeBatch();
    } while (this.handle && this.buffer.length >= this.maxBatchLines);
  }

  private async writeBatch(): Promise<void> {
    if (this.buffer.length === 0 || !this.handle) return;
    const entries = this.buffer;
    this.buffer = [];
    const current = this.segments.at(-1)!;
    let text = '';
    for (const entry of entries) text += `${entry.line}\n`;
    const bytes = Buffer.from(text, 'utf8');
    this.inWrite = entries.length;
    try {
      await this.handle.write(bytes);
      await this.handle.datasync();
    } catch (error) {
      this.inWrite = 0;
      // Not durable: keep the lines (ahead of newer ones) and cut off whatever part of them reached the file.
      this.buffer = entries.concat(this.buffer);
      await this.handle.truncate(current.bytes).catch(() => undefined);
      throw error;
    }
    this.inWrite = 0;
    current.written += entries.length;
    current.bytes += bytes.length;
    this.bytesOnDisk += bytes.length;
    this.durableUnacked += entries.length;
    if (current.cache && this.cachedLines + entries.length <= this.maxMemoryLines) {
      for (const entry of entries) current.cache.push(entry);
      this.cachedLines += entries.length;
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
  }

  /** Entries `start` to `end` (exclusive) of a segment, from memory or disk (only those are decoded). */
  async entries(segment: Segment<E>, start = 0, end = segment.written): Promise<E[]> {
    const stop = Math.min(end, segment.written);
    if (segment.cache) return segment.cache.slice(start, stop);
    return (await this.readSegment(segment)).slice(start, stop).map((line) => this.decode(line));
  }

  /** The lines of a segment, from memory or disk. */
  async lines(segment: Segment<E>): Promise<string[]> {
    return segment.cache ? segment.cache.map((entry) => entry.line) : (await this.readSegment(segment)).slice(0, segment.written);
  }

  /** A segment's lines from disk; a closed segment no longer changes, so its lines are kept until it is deleted or another is read. */
  private async readSegment(segment: Segment<E>): Promise<string[]> {
    if (this.readBack?.segment === segment) return this.readBack.lines;
    const lines = await readLines(segment.path);
    this.readBack = segment.closed ? { segment, lines } : undefined;
    return lines;
  }

  /** Records acknowledgements; deletes fully acknowledged closed segments. */
  async acknowledge(segment: Segment<E>, count: number): Promise<void> {
    segment.acked += count;
    this.durableUnacked -= count;
    if (segment.closed && segment.acked >= segment.written) {
      this.segments.splice(this.segments.indexOf(segment), 1);
      if (segment.cache) this.cachedLines -= segment.cache.length;
      if (this.readBack?.segment === segment) this.readBack = undefined;
      this.bytesOnDisk -= segment.bytes;
      await rm(segment.path, { force: true });
      return;
    }
    if (count > 0) {
      this.cursorDue = { seq: segment.seq, acked: segment.acked };
      this.cursorTimer ??= setTimeout(this.cursorTick, this.cursorMs).unref();
    }
  }

  /** Writes the latest acknowledged position, after any write still in progress. */
  private saveCursor(): Promise<void> {
    clearTimeout(this.cursorTimer);
    this.cursorTimer = undefined;
    this.cursorWriting = (this.cursorWriting ?? Promise.resolve()).then(async () => {
      const due = this.cursorDue;
      this.cursorDue = undefined;
      if (due) await this.writeCursor(due.seq, due.acked).catch(() => undefined);
    });
    return this.cursorWriting;
  }

  /**
   * One `pwrite` of a fixed-size record at offset 0 instead of write-to-temp + rename: a process
   * crash leaves either the old or the new cursor, and a stale one only re-publishes events the
   * stream's duplicate window drops.
   */
  private async writeCursor(seq: number, acked: number): Promise<void> {
    if (!this.cursor) return;
    const json = JSON.stringify({ seq, acked });
    this.cursorBuffer.fill(0x20);
    this.cursorBuffer.write(json, 0, 'utf8');
    await this.cursor.write(this.cursorBuffer, 0, CURSOR_BYTES, 0);
  }

  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.saveCursor();
    await this.handle?.close();
    this.handle = undefined;
    await this.cursor?.close();
    this.cursor = undefined;
  }
}

async function readLines(path: string): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n');
  // A torn last line (a crash mid-write) has no newline: it was never durable.
  lines.pop();
  return lines.filter((line) => line.length > 0);
}
