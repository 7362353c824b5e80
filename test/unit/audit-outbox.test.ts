import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Outbox } from '@mcp-mesh/audit';

const dir = () => mkdtempSync(join(tmpdir(), 'mcp-mesh-outbox-unit-'));

describe('audit outbox', () => {
  it('keeps unacknowledged lines across a restart, and only those', async () => {
    const path = dir();
    const first = new Outbox({ dir: path, segmentLines: 4 });
    await first.open();
    for (let i = 0; i < 10; i++) first.append(JSON.stringify({ i }));
    await first.flush();
    const oldest = first.segments[0]!;
    await first.acknowledge(oldest, 2);
    await first.close();

    const second = new Outbox({ dir: path, segmentLines: 4 });
    await second.open();
    expect(second.pendingLines).toBe(8);
    const replay: number[] = [];
    for (const segment of second.segments) {
      const lines = await second.lines(segment);
      replay.push(...lines.slice(segment.acked).map((line) => (JSON.parse(line) as { i: number }).i));
    }
    expect(replay).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
    await second.close();
  });

  it('deletes a segment once every line in it is acknowledged', async () => {
    const path = dir();
    const outbox = new Outbox({ dir: path, segmentLines: 3 });
    await outbox.open();
    for (let i = 0; i < 3; i++) outbox.append(`{"i":${i}}`);
    await outbox.flush();
    const full = outbox.segments[0]!;
    expect(full.closed).toBe(true);
    await outbox.acknowledge(full, 3);
    expect(readdirSync(path).filter((name) => name.startsWith('segment-'))).toHaveLength(1);
    expect(outbox.pendingLines).toBe(0);
    await outbox.close();
  });

  it('reads segments back from disk once they no longer fit in memory', async () => {
    const outbox = new Outbox({ dir: dir(), segmentLines: 100, maxMemoryLines: 5 });
    await outbox.open();
    for (let i = 0; i < 20; i++) outbox.append(`{"i":${i}}`);
    await outbox.flush();
    const segment = outbox.segments[0]!;
    expect(segment.cache).toBeUndefined();
    expect(await outbox.lines(segment)).toHaveLength(20);
    await outbox.close();
  });
});

describe('audit outbox: group commit', () => {
  const entry = (i: number) => ({ line: JSON.stringify({ i }), i });
  const decode = (line: string) => ({ line, i: (JSON.parse(line) as { i: number }).i });

  it('writes many appended lines with one write and fdatasync per batch', async () => {
    const outbox = new Outbox({ dir: dir(), flushMs: 10_000, maxBatchLines: 100, decode });
    await outbox.open();
    let commits = 0;
    outbox.onDurable = () => commits++;
    for (let i = 0; i < 250; i++) outbox.append(entry(i));
    expect(outbox.pendingLines).toBe(250);
    await outbox.flush();
    // Full batches are written without waiting for flushMs; flush() takes the rest.
    expect(commits).toBeGreaterThanOrEqual(2);
    expect(commits).toBeLessThanOrEqual(4);
    expect(outbox.segments[0]!.written).toBe(250);
    await outbox.close();
  });

  it('commits within flushMs without an explicit flush', async () => {
    const outbox = new Outbox({ dir: dir(), flushMs: 5 });
    await outbox.open();
    const durable = new Promise<void>((resolve) => (outbox.onDurable = resolve));
    for (let i = 0; i < 10; i++) outbox.append(`{"i":${i}}`);
    expect(outbox.segments[0]!.written).toBe(0);
    await durable;
    expect(outbox.segments[0]!.written).toBe(10);
    await outbox.close();
  });

  it('after a crash (reopened without close), holds every line appended before the last flush, in order', async () => {
    const path = dir();
    const crashed = new Outbox({ dir: path, segmentLines: 64, maxBatchLines: 50, flushMs: 10_000, decode });
    await crashed.open();
    for (let i = 0; i < 300; i++) crashed.append(entry(i));
    await crashed.flush();
    // Appended after the last group commit: not yet durable, so a crash may lose them.
    for (let i = 300; i < 310; i++) crashed.append(entry(i));
    // No close(): the process "dies" here.

    const reopened = new Outbox({ dir: path, segmentLines: 64, decode });
    await reopened.open();
    expect(reopened.pendingLines).toBe(300);
    const replay: number[] = [];
    for (const segment of reopened.segments) replay.push(...(await reopened.entries(segment)).slice(segment.acked).map((e) => e.i));
    expect(replay).toEqual(Array.from({ length: 300 }, (_, i) => i));
    await reopened.close();
  });

  it('keeps the acknowledged position across a crash once cursorMs has passed', async () => {
    const path = dir();
    const crashed = new Outbox({ dir: path, segmentLines: 100, cursorMs: 10, decode });
    await crashed.open();
    for (let i = 0; i < 20; i++) crashed.append(entry(i));
    await crashed.flush();
    await crashed.acknowledge(crashed.segments[0]!, 7);
    await new Promise((resolve) => setTimeout(resolve, 100));

    const reopened = new Outbox({ dir: path, segmentLines: 100, decode });
    await reopened.open();
    expect(reopened.pendingLines).toBe(13);
    const [first] = reopened.segments;
    expect((await reopened.entries(first!)).slice(first!.acked)[0]!.i).toBe(7);
    await reopened.close();
  });

  it('reads a cursor written by the earlier format (write + rename, unpadded)', async () => {
    const path = dir();
    const first = new Outbox({ dir: path, segmentLines: 100 });
    await first.open();
    for (let i = 0; i < 5; i++) first.append(`{"i":${i}}`);
    await first.close();
    writeFileSync(join(path, 'cursor.json'), JSON.stringify({ seq: 1, acked: 3 }));
    const second = new Outbox({ dir: path, segmentLines: 100 });
    await second.open();
    expect(second.pendingLines).toBe(2);
    await second.close();
  });
});
