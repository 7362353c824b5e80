#!/usr/bin/env node
/**
 * `npm run bench:audit [-- --events 20000 --rate 2000 --rounds 3]`: what recording one audit event
 * costs the ingress process, against a real nats-server with JetStream, in this process.
 *
 * Every figure is set against a baseline measured in the same run (interleaved rounds): a plain
 * `nc.publish` of the same bytes, which is the least any publish to NATS can cost. Phases:
 * - construct: building the event as the ingress's request observer does (id, time, digest, sizes);
 * - burst: `record()` N events in a loop, then wait until JetStream has acknowledged them all;
 * - paced: `record()` at a steady rate (the ingress at a realistic load), then the same wait.
 * CPU is this process's user + system time (`process.cpuUsage`), so the outbox's writes and
 * fsyncs on libuv's threads are included.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { AuditPublisher, type AuditPublisherOptions } from '@mcp-mesh/audit';
import { argsDigest, newAuditEventId, type AuditEvent } from '@mcp-mesh/protocol';
import { NatsServer } from '@mcp-mesh/testing';
import { connect, type NatsConnection } from '@nats-io/transport-node';

import { median } from './load.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

interface Sample {
  wallMs: number;
  cpuUs: number;
  events: number;
  /** Part of `wallMs` spent in the synchronous `record()` / `publish()` calls. */
  callMs?: number;
}

const silentLogger = (() => {
  const noop = () => {};
  const logger = { trace: noop, debug: noop, info: noop, warn: noop, error: noop, fatal: noop, child: () => logger };
  return logger as unknown as AuditPublisherOptions['logger'];
})();

/** An event like the request observer builds for `tools/call echo {text}`. */
function buildEvent(i: number): AuditEvent {
  const params = { name: 'echo', arguments: { text: `call ${i}` } };
  const now = Date.now();
  return {
    v: 1,
    id: newAuditEventId(now),
    time: new Date(now).toISOString(),
    kind: 'request',
    traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    spanId: '00f067aa0ba902b7',
    session: '1f0e7c2a-6a4c-4d7e-9b1a-3f1c2d4e5f60',
    principal: 'anonymous',
    endpoint: '/servers/bench/mcp',
    server: 'bench',
    method: 'tools/call',
    target: 'echo',
    argsDigest: argsDigest(params.arguments),
    outcome: 'ok',
    latencyMs: 1.234,
    bytesIn: Buffer.byteLength(JSON.stringify(params)),
    bytesOut: 52,
  };
}

function cpuNow(): number {
  const { user, system } = process.cpuUsage();
  return user + system;
}

async function timed(events: number, run: () => Promise<number | void>): Promise<Sample> {
  const cpu = cpuNow();
  const started = performance.now();
  const callMs = await run();
  return { wallMs: performance.now() - started, cpuUs: cpuNow() - cpu, events, ...(callMs ? { callMs } : {}) };
}

async function construct(n: number): Promise<Sample> {
  return timed(n, async () => {
    let keep = 0;
    for (let i = 0; i < n; i++) keep += buildEvent(i).id.length;
    if (keep === 0) throw new Error('unreachable');
  });
}

/** Calls `each` for n items: all at once (rate 0) or spread at `rate` per second in 1 ms ticks. */
async function drive(n: number, rate: number, each: (i: number) => void): Promise<number> {
  let callMs = 0;
  const started = performance.now();
  let i = 0;
  while (i < n) {
    const due = rate > 0 ? Math.min(n, Math.ceil(((performance.now() - started) * rate) / 1_000)) : n;
    const t = performance.now();
    for (; i < due; i++) each(i);
    callMs += performance.now() - t;
    if (i < n) await delay(1);
  }
  return callMs;
}

async function plainPublish(nc: NatsConnection, events: readonly AuditEvent[], rate: number): Promise<Sample> {
  // Serialised before the clock starts: the baseline is the publishing alone.
  const lines = events.map((event) => JSON.stringify(event));
  return timed(lines.length, async () => {
    const callMs = await drive(lines.length, rate, (i) => nc.publish('bench.audit.baseline', lines[i]!));
    await nc.flush();
    return callMs;
  });
}

interface RecordOptions {
  prefix: string;
  flushMs?: number;
  window?: number;
}

async function record(nc: NatsConnection, events: AuditEvent[], rate: number, options: RecordOptions): Promise<Sample> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-mesh-audit-bench-'));
  const audit = await AuditPublisher.open({
    nc,
    logger: silentLogger,
    dir,
    stream: { prefix: options.prefix },
    ...(options.flushMs !== undefined ? { flushMs: options.flushMs } : {}),
    ...(options.window !== undefined ? { window: options.window } : {}),
  });
  // The stream exists and the pump is idle before the clock starts.
  await audit.drain(10_000);
  try {
    return await timed(events.length, async () => {
      const callMs = await drive(events.length, rate, (i) => audit.record(events[i]!));
      const left = await audit.drain(60_000);
      if (left > 0) throw new Error(`${left} audit events not acknowledged within 60 s`);
      return callMs;
    });
  } finally {
    await audit.close(1_000);
    await rm(dir, { recursive: true, force: true });
  }
}

const fmt = (value: number, digits = 1) => value.toFixed(digits);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string', default: '20000' },
      rate: { type: 'string', default: '2000' },
      'paced-events': { type: 'string', default: '6000' },
      rounds: { type: 'string', default: '3' },
      /** AuditPublisher options, to compare settings (default: the publisher's own). */
      'flush-ms': { type: 'string' },
      window: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    out('Usage: npm run bench:audit -- [--events 20000] [--rate 2000] [--paced-events 6000] [--rounds 3] [--flush-ms N] [--window N]');
    return;
  }
  const n = Number(values.events);
  const rate = Number(values.rate);
  const paced = Number(values['paced-events']);
  const rounds = Number(values.rounds);
  const nats = await NatsServer.start();
  const nc = await connect({ servers: nats.url, name: 'audit-bench' });
  const recordOptions: RecordOptions = {
    prefix: 'mcp.v1',
    ...(values['flush-ms'] !== undefined ? { flushMs: Number(values['flush-ms']) } : {}),
    ...(values.window !== undefined ? { window: Number(values.window) } : {}),
  };
  out(`audit bench: ${n} events burst, ${paced} paced at ${rate}/s, ${rounds} rounds; nats-server ${nats.url}; Node ${process.version}`);
  const samples: Record<string, Sample[]> = {};
  const add = (name: string, sample: Sample) => (samples[name] ??= []).push(sample);
  try {
    // Warm-up (JIT, the stream, the file system), not counted.
    const events = (count: number) => Array.from({ length: count }, (_, i) => buildEvent(i));
    await construct(2_000);
    const warm = events(2_000);
    await plainPublish(nc, warm, 0);
    await record(nc, warm, 0, recordOptions);
    for (let round = 0; round < rounds; round++) {
      add('construct', await construct(n));
      // The same events through the plain-publish baseline and through the publisher, as a burst and paced.
      for (const [phase, count, pace] of [
        ['burst', n, 0],
        ['paced', paced, rate],
      ] as const) {
        const batch = events(count);
        add(`publish-${phase}`, await plainPublish(nc, batch, pace));
        add(`record-${phase}`, await record(nc, batch, pace, recordOptions));
      }
      out(`round ${round + 1}/${rounds} done`);
    }
  } finally {
    await nc.close();
    await nats.stop();
  }
  const per = (name: string) => {
    const list = samples[name]!;
    return {
      cpuUs: median(list.map((s) => s.cpuUs / s.events)),
      callUs: median(list.map((s) => ((s.callMs ?? 0) * 1_000) / s.events)),
      perSecond: median(list.map((s) => s.events / (s.wallMs / 1_000))),
      wallMs: median(list.map((s) => s.wallMs)),
    };
  };
  const construction = per('construct');
  const publishBurst = per('publish-burst');
  const recordBurst = per('record-burst');
  const publishPaced = per('publish-paced');
  const recordPaced = per('record-paced');
  out('');
  out(`| measurement (median of ${rounds} rounds) | events/s | wall ms | CPU µs/event | call µs/event | CPU × nc.publish |`);
  out('|---|---:|---:|---:|---:|---:|');
  out(
    `| build the event (request observer's fields) | ${fmt(construction.perSecond, 0)} | ${fmt(construction.wallMs, 0)} | ${fmt(construction.cpuUs, 2)} | – | – |`,
  );
  out(
    `| nc.publish, burst of ${n} (baseline) | ${fmt(publishBurst.perSecond, 0)} | ${fmt(publishBurst.wallMs, 0)} | ${fmt(publishBurst.cpuUs, 2)} | ${fmt(publishBurst.callUs, 2)} | 1 |`,
  );
  out(
    `| record(), burst of ${n}, until all acked | ${fmt(recordBurst.perSecond, 0)} | ${fmt(recordBurst.wallMs, 0)} | ${fmt(recordBurst.cpuUs, 2)} | ${fmt(recordBurst.callUs, 2)} | ${fmt(recordBurst.cpuUs / publishBurst.cpuUs, 2)} |`,
  );
  out(
    `| nc.publish, ${paced} at ${rate}/s (baseline) | ${fmt(publishPaced.perSecond, 0)} | ${fmt(publishPaced.wallMs, 0)} | ${fmt(publishPaced.cpuUs, 2)} | ${fmt(publishPaced.callUs, 2)} | 1 |`,
  );
  out(
    `| record(), ${paced} at ${rate}/s, until all acked | ${fmt(recordPaced.perSecond, 0)} | ${fmt(recordPaced.wallMs, 0)} | ${fmt(recordPaced.cpuUs, 2)} | ${fmt(recordPaced.callUs, 2)} | ${fmt(recordPaced.cpuUs / publishPaced.cpuUs, 2)} |`,
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
