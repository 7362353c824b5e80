import type { LiveStats, WindowStats } from '../src/api-types.js';
import { BreakerBadge, HealthBadge } from './badges.js';
import { formatMs, formatPercent, formatRate } from './format.js';

const MESH_KEY = '(mesh)';
const NO_TRAFFIC: WindowStats = { count: 0, ratePerSecond: 0, p95Ms: null, errorRate: 0, errors: 0, toolErrors: 0, denied: 0 };

function Numbers({ stats }: { stats: WindowStats }) {
  const failing = stats.errorRate > 0.05;
  return (
    <>
      <td class="num" data-testid="rate">
        {formatRate(stats.ratePerSecond)}
      </td>
      <td class="num" data-testid="p95">
        {formatMs(stats.p95Ms)}
      </td>
      <td
        class={`num ${failing ? 'bad' : ''}`}
        data-testid="error-rate"
        title={`${stats.errors} errors, ${stats.toolErrors} tool errors, ${stats.denied} denied of ${stats.count}`}
      >
        {stats.count === 0 ? '–' : formatPercent(stats.errorRate)}
      </td>
      <td class="num">{stats.count}</td>
    </>
  );
}

/** Calls per second, p95 and error rate per server over the window, with health and breakers. */
export function LiveView({ live }: { live: LiveStats | null }) {
  if (!live)
    return (
      <section class="panel">
        <h2>Live</h2>
        <p class="muted">Waiting for the first numbers…</p>
      </section>
    );
  const seconds = Math.round(live.windowMs / 1_000);
  const mesh = live.stats[MESH_KEY];
  return (
    <section class="panel" data-testid="live-view">
      <div class="panel-head">
        <h2>Live</h2>
        <span class="muted">last {seconds} s · every request through this ingress</span>
      </div>
      <table class="grid">
        <thead>
          <tr>
            <th>server</th>
            <th>health</th>
            <th>breaker</th>
            <th>replicas</th>
            <th class="num">in flight</th>
            <th class="num">calls/s</th>
            <th class="num">p95</th>
            <th class="num">errors</th>
            <th class="num">requests</th>
          </tr>
        </thead>
        <tbody>
          {live.servers.map((server) => {
            const ready = server.replicas.filter((r) => r.state === 'ready').length;
            const inFlight = server.replicas.reduce((sum, r) => sum + r.inFlight, 0);
            return (
              <tr key={server.name} data-testid="stats-row" data-server={server.name}>
                <td>
                  <a href={`#server-${server.name}`}>{server.name}</a>
                </td>
                <td>
                  <HealthBadge health={server.health} />
                </td>
                <td>
                  <BreakerBadge state={live.breakers[server.name] ?? server.breaker} />
                </td>
                <td>
                  {ready}/{server.replicas.length} ready
                </td>
                <td class="num">{inFlight}</td>
                <Numbers stats={live.stats[server.name] ?? NO_TRAFFIC} />
              </tr>
            );
          })}
          {mesh ? (
            <tr data-testid="stats-row" data-server={MESH_KEY} class="mesh-row">
              <td colSpan={5}>
                <span class="muted">/mcp lists across servers</span>
              </td>
              <Numbers stats={mesh} />
            </tr>
          ) : null}
          {live.servers.length === 0 && !mesh ? (
            <tr>
              <td colSpan={9} class="muted">
                No server is on the mesh yet: start a bridge.
              </td>
            </tr>
          ) : null}
        </tbody>
      </table>
    </section>
  );
}
