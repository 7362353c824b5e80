import { z } from 'zod';
import { jetstreamManager } from '@nats-io/jetstream';
import { auditStreamConfig } from '@mcp-mesh/audit';
import { connectNats } from '@mcp-mesh/runtime';
import { MeshClient, Registry } from '@mcp-mesh/ingress';
import { Subjects } from '@mcp-mesh/protocol';
import { createLogger } from '@mcp-mesh/runtime';
import { natsUrlFrom, parseOptions } from '../options.js';
import { colour, say } from '../output.js';

export const DoctorOptionsSchema = z.object({
  natsUrl: z.string().optional(),
  prefix: z.string().optional(),
  json: z.boolean().default(false),
  /** Clock skew above this is reported, milliseconds. */
  maxSkewMs: z.coerce.number().int().positive().default(1_000),
});

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What to do about it, when not ok. */
  fix?: string;
}

/** Runs every check; never throws for a failed check (a failed check is a result). */
export async function diagnose(options: z.infer<typeof DoctorOptionsSchema>, env: NodeJS.ProcessEnv): Promise<Check[]> {
  const checks: Check[] = [];
  const url = natsUrlFrom(options.natsUrl, env);
  let nc;
  try {
    const started = Date.now();
    nc = await connectNats({ url, name: 'mcp-mesh-doctor' });
    const rtt = await nc.rtt();
    checks.push({
      name: 'nats',
      ok: true,
      detail: `connected to ${url} (server ${nc.info?.version}, ${Date.now() - started} ms, rtt ${rtt} ms, max_payload ${nc.info?.max_payload} bytes)`,
    });
  } catch (error) {
    checks.push({
      name: 'nats',
      ok: false,
      detail: (error as Error).message,
      fix: `start NATS with JetStream (nats-server -js), or set NATS_URL; \`mcp-mesh up\` starts one itself when none answers on loopback`,
    });
    return checks;
  }
  try {
    const jsm = await jetstreamManager(nc);
    const account = await jsm.getAccountInfo();
    checks.push({ name: 'jetstream', ok: true, detail: `enabled (${account.streams} streams, ${account.storage} bytes stored)` });
    try {
      const wanted = auditStreamConfig({ ...(options.prefix ? { prefix: options.prefix } : {}) });
      const info = await jsm.streams.info(wanted.name);
      const subjectsOk = JSON.stringify(info.config.subjects) === JSON.stringify(wanted.subjects);
      checks.push({
        name: 'audit stream',
        ok: subjectsOk && info.config.storage === 'file',
        detail: `${wanted.name}: ${info.state.messages} events, ${info.state.bytes} bytes, subjects ${info.config.subjects.join(',')}, storage ${info.config.storage}, replicas ${info.config.num_replicas}`,
        ...(subjectsOk
          ? {}
          : { fix: `its subjects should be ${wanted.subjects.join(',')}: restart an ingress (it updates the stream) or fix the prefix` }),
      });
    } catch {
      checks.push({
        name: 'audit stream',
        ok: false,
        detail: `${auditStreamConfig(options.prefix ? { prefix: options.prefix } : {}).name} does not exist`,
        fix: 'start an ingress with audit enabled: it creates the stream',
      });
    }
  } catch (error) {
    checks.push({
      name: 'jetstream',
      ok: false,
      detail: (error as Error).message,
      fix: 'enable JetStream on the server (nats-server -js, or jetstream {} in its config)',
    });
  }

  const subjects = new Subjects(options.prefix);
  const registry = new Registry(nc, subjects, createLogger({ name: 'mcp-mesh-doctor', level: 'silent' }));
  const received = new Map<string, number>();
  const sub = nc.subscribe(subjects.registryAll(), {
    callback: (_error, msg) => {
      try {
        const body = JSON.parse(new TextDecoder().decode(msg.data)) as { instance?: string; sentAt?: string };
        if (body.instance && body.sentAt) received.set(body.instance, Date.now() - Date.parse(body.sentAt));
      } catch {
        // Not a descriptor.
      }
    },
  });
  await registry.start(1_200);
  sub.unsubscribe();
  const client = new MeshClient(nc, subjects);
  const servers = registry.snapshot();
  if (servers.length === 0)
    checks.push({
      name: 'bridges',
      ok: false,
      detail: 'no bridge answered discovery',
      fix: 'start bridges: mcp-mesh bridge --name <server> -- <command>, or mcp-mesh up',
    });
  for (const { server, replicas } of servers) {
    const unhealthy = replicas.filter((r) => r.state !== 'ready');
    let ping = '';
    try {
      const started = Date.now();
      await client.call(server, 'ping', undefined, { deadline: Date.now() + 3_000 });
      ping = `, ping ${Date.now() - started} ms`;
    } catch (error) {
      ping = `, ping failed: ${(error as Error).message}`;
    }
    const restarts = replicas.reduce((sum, r) => sum + r.restarts, 0);
    checks.push({
      name: `server ${server}`,
      ok: unhealthy.length === 0 && !ping.includes('failed'),
      detail: `${replicas.length} replica(s): ${replicas.map((r) => `${r.instance} ${r.state}`).join(', ')}; ${restarts} upstream restart(s)${ping}`,
      ...(unhealthy.length > 0 || ping.includes('failed')
        ? {
            fix: `look at the bridge logs of ${unhealthy.map((r) => r.instance).join(', ') || server}: its upstream is ${unhealthy[0]?.state ?? 'not answering'}`,
          }
        : {}),
    });
  }
  const skews = [...received.entries()].filter(([, skew]) => Math.abs(skew) > options.maxSkewMs);
  checks.push({
    name: 'clock skew',
    ok: skews.length === 0,
    detail:
      received.size === 0
        ? 'no bridge heartbeat to compare with'
        : `largest difference to a bridge: ${Math.max(...[...received.values()].map(Math.abs))} ms (includes delivery time)`,
    ...(skews.length > 0 ? { fix: `synchronise clocks (NTP) of: ${skews.map(([i]) => i).join(', ')}` } : {}),
  });
  client.close();
  registry.close();
  await nc.drain();
  return checks;
}

/** `mcp-mesh doctor`: what is wrong with this mesh and what to do about it. Exit 1 when a check fails. */
export async function runDoctor(input: unknown, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const options = parseOptions(DoctorOptionsSchema, input, 'doctor');
  const checks = await diagnose(options, env);
  if (options.json) say(JSON.stringify({ ok: checks.every((c) => c.ok), checks }, null, 2));
  else {
    for (const check of checks) {
      say(`${check.ok ? colour.green('✓') : colour.red('✗')} ${colour.bold(check.name)}: ${check.detail}`);
      if (check.fix) say(`  ${colour.yellow('fix:')} ${check.fix}`);
    }
  }
  return checks.every((c) => c.ok) ? 0 : 1;
}
