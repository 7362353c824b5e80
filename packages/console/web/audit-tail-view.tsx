import { useState } from 'preact/hooks';
import type { AuditEvent } from '@mcp-mesh/protocol';
import type { AuditStatus } from '../src/api-types.js';
import { OutcomeBadge } from './badges.js';
import { formatClock, formatMs } from './format.js';

const SESSION_KINDS = new Set(['session.start', 'session.end']);

function what(event: AuditEvent): string {
  if (event.kind !== 'request' && event.kind !== 'policy.denial') return event.kind;
  return [event.method, event.target].filter(Boolean).join(' ');
}

/** The newest audit events, each linked to its trace in Jaeger when a Jaeger URL is configured. */
export function AuditTailView({ events, status, jaegerUrl }: { events: AuditEvent[]; status: AuditStatus; jaegerUrl: string | null }) {
  const [sessions, setSessions] = useState(false);
  const shown = sessions ? events : events.filter((event) => !SESSION_KINDS.has(event.kind));
  return (
    <section class="panel audit" data-testid="audit-tail">
      <div class="panel-head">
        <h2>Audit tail</h2>
        <span class={`pill ${status.state === 'live' ? 'pill-live' : 'pill-off'}`} title={status.message} data-testid="audit-status">
          {status.state === 'live' ? 'live' : 'unavailable'}
        </span>
        <label class="toggle">
          <input type="checkbox" checked={sessions} onChange={(event) => setSessions((event.target as HTMLInputElement).checked)} />
          sessions
        </label>
      </div>
      {status.state !== 'live' && status.message ? <p class="muted small-text">{status.message}</p> : null}
      {shown.length === 0 ? <p class="muted">No events yet.</p> : null}
      <ol class="events">
        {shown.map((event) => (
          <li
            key={event.id}
            class={`event outcome-row-${event.outcome}`}
            data-testid="audit-row"
            data-kind={event.kind}
            data-server={event.server ?? ''}
            data-target={event.target ?? ''}
          >
            <time dateTime={event.time}>{formatClock(event.time)}</time>
            <span class="event-what">
              {event.server ? <strong>{event.server}</strong> : null} {what(event)}
            </span>
            <OutcomeBadge outcome={event.outcome} />
            <span class="event-meta">
              <span title="principal">{event.principal ?? '–'}</span>
              {event.latencyMs !== undefined ? <span>{formatMs(event.latencyMs)}</span> : null}
              {event.errorCode ? <code class="bad">{event.errorCode}</code> : null}
              {jaegerUrl && event.traceId ? (
                <a href={`${jaegerUrl}/trace/${event.traceId}`} target="_blank" rel="noopener noreferrer" data-testid="trace-link">
                  trace ↗
                </a>
              ) : null}
            </span>
          </li>
        ))}
      </ol>
    </section>
  );
}
