import { parseArgs } from 'node:util';
import { join } from 'node:path';

import { z } from 'zod';

import { REPO_ROOT } from './paths.js';

export const TARGET_IDS = [
  'direct',
  'direct-sdk',
  'supergateway',
  'supergateway-stateless',
  'mesh',
  'mesh-bus',
  'lean-ingress',
  'sdk-http',
  'fanout',
] as const;
export type TargetId = (typeof TARGET_IDS)[number];

/** `--quick`: the targets the issue's ratios and targets need, nothing diagnostic. */
const QUICK_TARGETS: TargetId[] = ['direct', 'supergateway', 'mesh', 'fanout'];

const BenchOptionsSchema = z
  .object({
    quick: z.boolean(),
    /** Client sessions the HTTP targets spread their concurrency over. */
    sessions: z.number().int().min(1).max(64),
    /** Seconds per measured workload (count bound is separate). */
    seconds: z.number().positive().max(120),
    maxCalls: z.number().int().min(1),
    warmupSeconds: z.number().min(0).max(60),
    warmupCalls: z.number().int().min(0),
    /** Before each measurement, wait up to this long for other work on the machine to calm down. */
    quietWaitSeconds: z.number().min(0).max(600),
    /** The most the whole run may spend waiting for quiet. */
    quietBudgetSeconds: z.number().min(0).max(3600),
    /** Interleaved rounds each workload's bounds are split into (targets alternate between rounds). */
    rounds: z.number().int().min(1).max(20),
    targets: z.array(z.enum(TARGET_IDS)).min(1),
    profile: z.boolean(),
    profileSeconds: z.number().positive().max(120),
    out: z.string().min(1),
    docs: z.string().min(1).optional(),
    /** Keep the raw .cpuprofile files of the profile run in this directory. */
    keepProfiles: z.string().min(1).optional(),
    /** Another build of the `mcp-mesh` CLI to benchmark (e.g. of an older revision). */
    meshCli: z.string().min(1).optional(),
    /** Run only the soak: the mesh under echo at c=64 for `soakMinutes`, memory sampled every second. */
    soak: z.boolean(),
    soakMinutes: z.number().min(0.1).max(60),
    /** Extra `node` flags of the ingress process (soak only), for memory experiments. */
    ingressNodeArgs: z.array(z.string().regex(/^--/, 'node flags start with --')).optional(),
    /** Extra arguments of `mcp-mesh ingress` (soak only), e.g. `--no-audit` for an A/B. */
    ingressArgs: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type BenchOptions = Readonly<z.infer<typeof BenchOptionsSchema>>;

/** `--render <results.json>`: print the tables of an earlier run and rewrite the docs from it. */
export interface RenderOptions {
  render: string;
  docs?: string;
}

export const USAGE = `Usage: npm run bench -- [--quick] [options]

Runs the same MCP workload directly over stdio, behind supergateway and through mcp-mesh, then
writes bench/results/latest.json and the tables of docs/performance.md (full runs only).

  --quick                direct, supergateway, mesh and fan-out with short bounds (1-2 minutes);
                         writes bench/results/quick.json.tmp, leaves latest.json and the docs alone
  --targets <a,b,…>      subset of ${TARGET_IDS.join(', ')}
  --sessions <n>         client sessions per HTTP target (default 4)
  --seconds <s>          time bound per measured workload (default 6, quick 2)
  --max-calls <n>        count bound per measured workload (default 50000)
  --rounds <n>           interleaved rounds per workload: targets take turns (default 3, quick 2)
  --quiet-wait <s>       before each measurement wait up to s seconds for other CPU load to stop (default 3, quick 1; at most 60 s, quick 10 s, per run)
  --profile / --no-profile   CPU-profile ingress and bridge during echo c=16 (default: on in full runs)
  --mesh-cli <main.js>   benchmark another build of the mcp-mesh CLI (e.g. of another revision)
  --keep-profiles <dir>  keep the raw .cpuprofile files (open them in Chrome DevTools or speedscope)
  --out <file>           results file
  --no-docs              do not update docs/performance.md
  --render <file>        run nothing: print the tables of an earlier results file and rewrite the docs from it
  --soak                 run only the memory soak: the mesh under echo at c=64 without pause, RSS of ingress,
                         bridge and nats-server every second; writes bench/results/soak.json and the soak
                         section of docs/performance.md. Not part of the full run (it would add its minutes).
  --soak-minutes <m>     length of the soak, warm-up included (default 5; e.g. 0.5 for a smoke test)
  --ingress-node-args="<flags>"   soak only: extra node flags of the ingress (e.g. "--max-semi-space-size=4");
                         writes bench/results/soak-experiment.json.tmp and leaves the docs alone
  --ingress-args="<args>"   soak only: extra arguments of mcp-mesh ingress (e.g. "--no-audit"); an experiment too
  -h, --help`;

/** Parses argv once; every problem is reported together; the result is frozen. */
export function parseOptions(argv: string[]): BenchOptions | RenderOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      targets: { type: 'string' },
      sessions: { type: 'string' },
      seconds: { type: 'string' },
      'max-calls': { type: 'string' },
      'quiet-wait': { type: 'string' },
      rounds: { type: 'string' },
      profile: { type: 'boolean' },
      'no-profile': { type: 'boolean' },
      out: { type: 'string' },
      'mesh-cli': { type: 'string' },
      'keep-profiles': { type: 'string' },
      'no-docs': { type: 'boolean', default: false },
      render: { type: 'string' },
      soak: { type: 'boolean', default: false },
      'soak-minutes': { type: 'string' },
      'ingress-node-args': { type: 'string' },
      'ingress-args': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (values.render !== undefined) {
    return values['no-docs'] ? { render: values.render } : { render: values.render, docs: join(REPO_ROOT, 'docs/performance.md') };
  }
  const quick = values.quick;
  const soak = values.soak;
  const number = (text: string | undefined) => (text === undefined ? undefined : Number(text));
  const words = (text: string | undefined) => text?.split(/\s+/).filter((word) => word !== '');
  const ingressNodeArgs = words(values['ingress-node-args']);
  const ingressArgs = words(values['ingress-args']);
  const experiment = (ingressNodeArgs?.length ?? 0) + (ingressArgs?.length ?? 0) > 0;
  // Only the soak starts its ingress with extra arguments; a full run would ignore them.
  if (experiment && !soak) throw new Error('--ingress-args and --ingress-node-args apply to --soak only');
  const defaultOut = soak
    ? experiment
      ? 'bench/results/soak-experiment.json.tmp'
      : 'bench/results/soak.json'
    : quick
      ? 'bench/results/quick.json.tmp'
      : 'bench/results/latest.json';
  const parsed = BenchOptionsSchema.safeParse({
    quick,
    sessions: number(values.sessions) ?? 4,
    seconds: number(values.seconds) ?? (quick ? 2 : 6),
    maxCalls: number(values['max-calls']) ?? 50_000,
    warmupSeconds: quick ? 0.5 : 1.5,
    warmupCalls: quick ? 300 : 2_000,
    quietWaitSeconds: number(values['quiet-wait']) ?? (quick ? 1 : 3),
    quietBudgetSeconds: quick ? 10 : 60,
    rounds: number(values.rounds) ?? (quick ? 2 : 3),
    targets: values.targets?.split(',').map((id) => id.trim()) ?? (quick ? QUICK_TARGETS : TARGET_IDS),
    profile: values['no-profile'] ? false : (values.profile ?? !quick),
    profileSeconds: quick ? 4 : 10,
    out: values.out ?? join(REPO_ROOT, defaultOut),
    docs: values['no-docs'] || quick || values['mesh-cli'] || experiment ? undefined : join(REPO_ROOT, 'docs/performance.md'),
    soak,
    soakMinutes: number(values['soak-minutes']) ?? 5,
    ...(ingressNodeArgs === undefined ? {} : { ingressNodeArgs }),
    ...(ingressArgs === undefined ? {} : { ingressArgs }),
    ...(values['mesh-cli'] === undefined ? {} : { meshCli: values['mesh-cli'] }),
    ...(values['keep-profiles'] === undefined ? {} : { keepProfiles: values['keep-profiles'] }),
  });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  --${issue.path.join('.') || 'options'}: ${issue.message}`);
    throw new Error(`invalid options:\n${problems.join('\n')}\n\n${USAGE}`);
  }
  return Object.freeze(parsed.data);
}
