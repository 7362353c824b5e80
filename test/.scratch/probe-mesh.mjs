import { connect } from '@nats-io/transport-node';
import { Ingress } from '@mcp-mesh/ingress';
import { createLogger, IngressConfigSchema } from '@mcp-mesh/runtime';
import { fixtureServerCommand, NatsServer } from '@mcp-mesh/testing';
import { spawn } from 'node:child_process';
const nats = await NatsServer.start();
const nc = await connect({ servers: nats.url });
const config = IngressConfigSchema.parse({ port: 18931, requestTimeoutMs: 10_000, listTimeoutMs: 3_000 });
const ingress = new Ingress({ nc, config, logger: createLogger({ name: 't', level: 'error' }), discoverSettleMs: 50 });
await ingress.start();
const kids = [];
for (const name of ['alpha', 'beta']) {
  const up = fixtureServerCommand({ name });
  kids.push(spawn(process.execPath, ['/work/main/packages/cli/dist/main.js', 'bridge', '--name', name, '--nats-url', nats.url, '--heartbeat', '300', '--log-level', 'warn', '--', up.command, ...up.args], { stdio: 'inherit' }));
}
const mon = await connect({ servers: nats.url });
mon.subscribe('mcp.v1.srv.>', { callback: (e, m) => console.log('SUBJECT', m.subject, m.data.length > 300 ? m.data.length : new TextDecoder().decode(m.data)) });
console.log('READY', ingress.url, nats.url);
process.on('SIGTERM', async () => { for (const k of kids) k.kill(); await ingress.close(); await nc.close(); await nats.stop(); process.exit(0); });
