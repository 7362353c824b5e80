import { mkdtempSync, readdirSync } from 'node:fs';
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
