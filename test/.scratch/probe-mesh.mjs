import { connect } from '@nats-io/transport-node';
import { Ingress } from '@mcp-mesh/ingress';
import { createLogger, IngressConfigSchema } from '@mcp-mesh/runtime';
import { fixtureServerCommand, NatsServer } from '@mcp-mesh/testing';
import { spawn } from 'node:child_process';
const nats = await NatsServer.start();
const nc = await connect({ servers: nats.url });
(async () => { for await (const s of nc.status()) console.log('NC STATUS', s.type, JSON.stringify(s).slice(0, 200)); })();
const config = IngressConfigSchema.parse({ port: 18931, requestTimeoutMs: 10_000, listTimeoutMs: 3_000 });
const ingress = new Ingress({ nc, config, logger: createLogger({ name: 't', level: 'warn' }), discoverSettleMs: 50 });
await ingress.start();
const kids = [];
for (const name of ['alpha', 'beta']) {
  const up = fixtureServerCommand({ name });
  kids.push(spawn(process.execPath, ['/work/main/packages/cli/dist/main.js', 'bridge', '--name', name, '--nats-url', nats.url, '--heartbeat', '300', '--log-level', 'warn', '--', up.command, ...up.args], { stdio: 'inherit' }));
}
const mon = await connect({ servers: nats.url });
mon.subscribe('mcp.v1.srv.>', { callback: (e, m) => console.log('SUBJECT', m.subject.slice(0, 100), m.data.length) });
console.log('READY', ingress.url, nats.url);
process.on('SIGTERM', async () => { for (const k of kids) k.kill(); await ingress.close(); await nc.close(); await nats.stop(); process.exit(0); });
