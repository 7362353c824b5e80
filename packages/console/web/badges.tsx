import type { ServerHealth } from '../src/api-types.js';

const HEALTH_LABEL: Record<ServerHealth, string> = {
  healthy: 'healthy',
  degraded: 'degraded',
  restarting: 'restarting',
  'breaker-open': 'breaker open',
  down: 'down',
};

export function HealthBadge({ health }: { health: ServerHealth }) {
  return (
    <span class={`badge health-${health}`} data-testid="health">
      {HEALTH_LABEL[health]}
    </span>
  );
}

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return <span class={`badge outcome-${outcome}`}>{outcome.replace('_', ' ')}</span>;
}

export function BreakerBadge({ state }: { state: string | null | undefined }) {
  if (!state) return <span class="muted">–</span>;
  return <span class={`badge breaker-${state}`}>{state}</span>;
}
