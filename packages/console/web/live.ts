import { useEffect, useState } from 'preact/hooks';
import type { AuditEvent } from '@mcp-mesh/protocol';
import type { AuditStatus, LiveStats } from '../src/api-types.js';

/** Audit events the page keeps, newest first. */
export const MAX_EVENTS = 300;

export interface LiveState {
  connected: boolean;
  stats: LiveStats | null;
  events: AuditEvent[];
  auditStatus: AuditStatus;
}

/** Follows GET /api/live (Server-Sent Events); the browser reconnects by itself and resumes after the last event id. */
export function useLive(): LiveState {
  const [state, setState] = useState<LiveState>({
    connected: false,
    stats: null,
    events: [],
    auditStatus: { state: 'unavailable', message: 'connecting' },
  });
  useEffect(() => {
    const source = new EventSource('/api/live');
    const seen = new Set<string>();
    source.onopen = () => setState((s) => ({ ...s, connected: true }));
    source.onerror = () => setState((s) => ({ ...s, connected: false }));
    source.addEventListener('stats', (message) => {
      const stats = JSON.parse((message as MessageEvent<string>).data) as LiveStats;
      setState((s) => ({ ...s, connected: true, stats }));
    });
    source.addEventListener('audit-status', (message) => {
      const auditStatus = JSON.parse((message as MessageEvent<string>).data) as AuditStatus;
      setState((s) => ({ ...s, auditStatus }));
    });
    source.addEventListener('audit', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as AuditEvent;
      if (seen.has(event.id)) return;
      seen.add(event.id);
      setState((s) => {
        const events = [event, ...s.events];
        if (events.length > MAX_EVENTS) for (const dropped of events.splice(MAX_EVENTS)) seen.delete(dropped.id);
        return { ...s, events };
      });
    });
    return () => source.close();
  }, []);
  return state;
}
