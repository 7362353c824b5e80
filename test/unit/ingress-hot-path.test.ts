import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { metrics } from '@opentelemetry/api';
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { pathOf } from '@mcp-mesh/ingress';
import { LocalSum } from '@mcp-mesh/telemetry';

describe('pathOf: the request path without URL parsing in the plain case', () => {
  it('equals what URL parsing gives, for any request target: property', () => {
    const char = fc.constantFrom('a', 'Z', '0', '-', '_', '~', '/', '.', '%', '2', 'F', '?', '#', ' ', '\\', 'é', ':', '@', '+');
    fc.assert(
      fc.property(fc.array(char, { maxLength: 30 }), (chars) => {
        const target = `/${chars.join('')}`;
        let expected: string | Error;
        try {
          expected = new URL(target, 'http://ingress').pathname;
        } catch (error) {
          expected = error as Error;
        }
        if (expected instanceof Error) expect(() => pathOf(target)).toThrow(expected.message);
        else expect(pathOf(target)).toBe(expected);
      }),
      { numRuns: 3_000 },
    );
  });
});

describe('LocalSum: sums per attribute set, exported by an observable instrument', () => {
  it('exports the cumulative sum of each attribute set under the instrument name', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const meter = provider.getMeter('test');
    const calls = new LocalSum(meter, 'calls', { description: 'calls', monotonic: true });
    const inFlight = new LocalSum(meter, 'in_flight', { description: 'in flight', monotonic: false });
    calls.add(1, { server: 'a', tool: 'x' });
    calls.add(2, { server: 'a', tool: 'x' });
    calls.add(1, { server: 'a', tool: 'y' });
    // Same values under other names are another set.
    calls.add(5, { tool: 'a', server: 'x' });
    inFlight.add(1, { method: 'tools/call' });
    inFlight.add(1, { method: 'tools/call' });
    inFlight.add(-1, { method: 'tools/call' });
    expect(calls.sumOf({ server: 'a', tool: 'x' })).toBe(3);
    await reader.forceFlush();
    const points = (name: string) =>
      exporter
        .getMetrics()
        .flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics))
        .filter((m) => m.descriptor.name === name)
        .flatMap((m) => m.dataPoints.map((p) => ({ attributes: p.attributes, value: p.value })));
    expect(points('calls')).toEqual(
      expect.arrayContaining([
        { attributes: { server: 'a', tool: 'x' }, value: 3 },
        { attributes: { server: 'a', tool: 'y' }, value: 1 },
        { attributes: { tool: 'a', server: 'x' }, value: 5 },
      ]),
    );
    expect(points('calls')).toHaveLength(3);
    expect(points('in_flight')).toEqual([{ attributes: { method: 'tools/call' }, value: 1 }]);
    await provider.shutdown();
    expect(metrics).toBeDefined();
  });

  it('keeps at most MAX_ATTRIBUTE_SETS sets; the rest is summed under otel.metric.overflow', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 60_000 });
    const provider = new MeterProvider({ readers: [reader] });
    const calls = new LocalSum(provider.getMeter('test'), 'calls', { description: 'calls', monotonic: true });
    for (let i = 0; i < LocalSum.MAX_ATTRIBUTE_SETS + 500; i++) calls.add(1, { tool: `client-chosen-${i}` });
    calls.add(1, { tool: 'client-chosen-0' });
    await reader.forceFlush();
    const points = exporter
      .getMetrics()
      .flatMap((m) => m.scopeMetrics.flatMap((s) => s.metrics))
      .flatMap((m) => m.dataPoints);
    expect(points).toHaveLength(LocalSum.MAX_ATTRIBUTE_SETS + 1);
    expect(points.find((p) => p.attributes['otel.metric.overflow'] === true)?.value).toBe(500);
    expect(calls.sumOf({ tool: 'client-chosen-0' })).toBe(2);
    await provider.shutdown();
  });
});
