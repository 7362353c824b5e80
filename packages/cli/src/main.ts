#!/usr/bin/env node
import { Command, Option } from 'commander';
import { MeshError } from '@mcp-mesh/protocol';
import { colour, warn } from './output.js';

/**
 * Each command's module is loaded when that command runs: `mcp-mesh ingress` never loads the
 * bridge, the MCP client SDK or the audit reader (tens of MB of RSS in a long-running process).
 */
const commands = {
  audit: () => import('./commands/audit.js'),
  bridge: () => import('./commands/bridge.js'),
  call: () => import('./commands/call.js'),
  connect: () => import('./commands/connect.js'),
  doctor: () => import('./commands/doctor.js'),
  explain: () => import('./commands/explain.js'),
  ingress: () => import('./commands/ingress.js'),
  ls: () => import('./commands/ls.js'),
  up: () => import('./commands/up.js'),
};

const collect = (value: string, previous: string[] = []) => [...previous, value];
const logLevel = () => new Option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent');

function fail(error: unknown): never {
  if (error instanceof MeshError) {
    warn(`${colour.red('error')} [${error.code}]: ${error.message}`);
  } else {
    warn(`${colour.red('error')}: ${(error as Error)?.stack ?? String(error)}`);
  }
  process.exit(1);
}

/** Runs a command that answers an exit code, and exits with it. */
function exitWith(run: Promise<number>): Promise<void> {
  return run.then((code) => process.exit(code)).catch(fail);
}

const program = new Command()
  .name('mcp-mesh')
  .description('An event-driven mesh for the Model Context Protocol on NATS')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('up')
  .description('run the whole mesh from one config file: NATS (embedded if none answers), the ingress and a bridge per server')
  .option('-c, --config <file>', 'mesh config file (servers / mcpServers)', 'mesh.config.json')
  .option('--nats-url <url>', 'NATS URL (default: $NATS_URL, the config, or nats://127.0.0.1:4222)')
  .option('-p, --port <port>', 'ingress HTTP port')
  .option('--host <host>', 'ingress listen address (loopback only until auth exists)')
  .option('--timeout <ms>', 'deadline of one forwarded call')
  .option('--no-embedded-nats', 'fail instead of starting nats-server when none answers')
  .option('--allow-anonymous', 'allow a non-loopback --host without authentication')
  .option('--no-audit', 'do not record audit events')
  .option('--no-console', 'do not serve the web console at /')
  .option('--jaeger-url <url>', 'Jaeger UI the console links audit events to (default: $MCP_MESH_JAEGER_URL)')
  .addOption(logLevel())
  .action((options) =>
    commands
      .up()
      .then(({ runUp }) => runUp({ ...options, noAudit: options.audit === false, noConsole: options.console === false }))
      .catch(fail),
  );

program
  .command('bridge')
  .description('expose one MCP server on NATS: mcp-mesh bridge --name <server> -- <command> [args…]')
  .requiredOption('-n, --name <server>', 'server name on the mesh')
  .option('--url <url>', 'remote Streamable HTTP MCP endpoint instead of a command')
  .option('-c, --config <file>', 'take the server of this name from a mesh config file')
  .option('--nats-url <url>', 'NATS URL (default: $NATS_URL or nats://127.0.0.1:4222)')
  .option('--prefix <prefix>', 'subject prefix (default mcp.v1)')
  .option('-e, --env <NAME=value>', 'environment variable for the server (repeatable)', collect)
  .option('--env-pass <NAME>', 'pass this variable of the bridge environment through (repeatable)', collect)
  .option('--timeout <ms>', 'deadline of one call to the server')
  .option('--heartbeat <ms>', 'heartbeat period')
  .option('--metrics-port <port>', 'serve Prometheus metrics on this port')
  .option('--rate-limit <rate/burst>', 'protect the upstream: calls per second per replica, with burst, e.g. 10/20')
  .option('--session-mode <mode>', 'shared (one upstream session per replica, default) or per-client (one per client session)')
  .addOption(logLevel())
  .argument('[command...]', 'the server command and its arguments, after --')
  .action((command: string[], options) =>
    commands
      .bridge()
      .then(({ runBridge }) => runBridge({ ...options, command }))
      .catch(fail),
  );

program
  .command('ingress')
  .description('serve MCP over Streamable HTTP for every bridge on the mesh')
  .option('-c, --config <file>', 'mesh config file (its ingress and nats sections)')
  .option('-p, --port <port>', 'HTTP port (default 8080)')
  .option('--host <host>', 'listen address (loopback only until auth exists)')
  .option('--nats-url <url>', 'NATS URL')
  .option('--timeout <ms>', 'deadline of one forwarded call')
  .option('--allow-anonymous', 'allow a non-loopback --host without authentication')
  .option('--close-sse-after <ms>', 'SSE polling: close a long call stream after this long (clients resume with Last-Event-ID)')
  .option(
    '--balance <how>',
    'least-in-flight (default): a call goes to the ready bridge replica with the fewest calls in flight from this ingress; queue-group: NATS picks one at random',
  )
  .option('--allowed-host <host>', 'a Host header the ingress answers besides loopback names, e.g. its service name (repeatable)', collect)
  .option('--no-audit', 'do not record audit events')
  .option('--no-console', 'do not serve the web console at /')
  .option('--jaeger-url <url>', 'Jaeger UI the console links audit events to (default: $MCP_MESH_JAEGER_URL)')
  .addOption(logLevel())
  .action((options) =>
    commands
      .ingress()
      .then(({ runIngress }) => runIngress({ ...options, noAudit: options.audit === false, noConsole: options.console === false }))
      .catch(fail),
  );

program
  .command('ls')
  .description('list servers, replicas and tools on the mesh')
  .option('--nats-url <url>', 'NATS URL')
  .option('--prefix <prefix>', 'subject prefix')
  .option('--json', 'machine-readable output')
  .action((options) => exitWith(commands.ls().then(({ runLs }) => runLs(options))));

program
  .command('call')
  .description("call a tool: mcp-mesh call <server> <tool> '<json args>'")
  .argument('<server>')
  .argument('<tool>')
  .argument('[args]', 'tool arguments as a JSON object', '{}')
  .option('--nats-url <url>', 'NATS URL')
  .option('--prefix <prefix>', 'subject prefix')
  .option('--timeout <ms>', 'deadline in milliseconds')
  .action((server: string, tool: string, args: string, options) =>
    exitWith(commands.call().then(({ runCall }) => runCall({ ...options, server, tool, args }))),
  );

program
  .command('connect')
  .description('a stdio MCP server that relays to a remote mesh, for desktop clients that only speak stdio')
  .argument('<url>', 'the mesh endpoint, e.g. http://127.0.0.1:8080/mcp')
  .option(
    '-H, --header <header>',
    'HTTP header for every request, e.g. "Authorization: Bearer …" (repeatable; or set MCP_MESH_TOKEN)',
    collect,
  )
  .action((url: string, options) =>
    commands
      .connect()
      .then(({ runConnect }) => runConnect({ url, header: options.header ?? [] }))
      .catch(fail),
  );

program
  .command('doctor')
  .description('check NATS, JetStream, the audit stream, every bridge and clock skew, and say what to fix')
  .option('--nats-url <url>', 'NATS URL')
  .option('--prefix <prefix>', 'subject prefix')
  .option('--max-skew-ms <ms>', 'clock skew to report', '1000')
  .option('--json', 'machine-readable output')
  .action((options) => exitWith(commands.doctor().then(({ runDoctor }) => runDoctor(options))));

program
  .command('explain')
  .description('why a principal may or may not use a tool: mcp-mesh explain alice github__create_issue')
  .argument('<principal>')
  .argument('<target>', '<server>__<tool> or a server name')
  .option('-c, --config <file>', 'mesh config file with the policy', 'mesh.config.json')
  .option('--role <role>', 'a role the principal credential carries (API key or JWT roles; repeatable)', collect)
  .option('--json', 'machine-readable output')
  .action((principal: string, target: string, options) =>
    exitWith(commands.explain().then(({ runExplain }) => runExplain({ ...options, principal, target }))),
  );

program
  .command('key')
  .description('manage API keys')
  .command('create')
  .description('create a random API key and print the hashed entry for policy.auth.apiKeys')
  .requiredOption('--principal <name>', 'who the key authenticates')
  .option('--id <id>', 'key id (default: the principal)')
  .option('--role <role>', 'role of the key (repeatable)', collect)
  .action(async (options) => {
    const { runKeyCreate } = await commands.explain();
    try {
      process.exit(runKeyCreate({ principal: options.principal, id: options.id, roles: options.role ?? [] }));
    } catch (error) {
      fail(error);
    }
  });

const audit = program.command('audit').description('read the audit stream (MCP_AUDIT on JetStream)');
for (const [mode, description] of [
  ['tail', 'follow new audit events'],
  ['query', 'print stored audit events that match the filters'],
  ['export', 'write matching audit events as JSON lines (to stdout or -o file)'],
] as const) {
  const command = audit
    .command(mode)
    .description(description)
    .option('--nats-url <url>', 'NATS URL')
    .option('--prefix <prefix>', 'subject prefix')
    .option('--server <server>', 'only this server')
    .option('--tool <name>', 'only this tool (or prompt name, or resource URI)')
    .option('--principal <principal>', 'only this principal')
    .option('--outcome <outcome>', 'ok | tool_error | error | denied')
    .option('--kind <kind>', 'request | session.start | session.end | auth.failure | policy.denial')
    .option('--since <time>', 'ISO time or a duration back from now (15m, 2h, 7d)')
    .option('--until <time>', 'ISO time or a duration back from now')
    .option('--limit <n>', 'at most this many events')
    .option('--json', 'one JSON object per line');
  if (mode === 'export') command.option('-o, --output <file>', 'write to this file instead of stdout');
  command.action((options) => exitWith(commands.audit().then(({ runAudit }) => runAudit(mode, options))));
}

await program.parseAsync(process.argv);
