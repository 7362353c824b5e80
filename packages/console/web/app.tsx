import { useEffect, useState } from 'preact/hooks';
import type { CatalogServer, ConsoleConfig } from '../src/api-types.js';
import { api, ApiFailure } from './api.js';
import { AuditTailView } from './audit-tail-view.js';
import { CatalogView, type ToolChoice } from './catalog-view.js';
import { useLive } from './live.js';
import { LiveView } from './live-view.js';
import { TryPanel } from './try-panel.js';

function describe(error: unknown): string {
  return error instanceof ApiFailure ? `${error.code}: ${error.message}` : String(error);
}

export function App() {
  const [config, setConfig] = useState<ConsoleConfig | null>(null);
  const [catalog, setCatalog] = useState<CatalogServer[] | null>(null);
  const [catalogError, setCatalogError] = useState<string | null>(null);
  const [choice, setChoice] = useState<ToolChoice | null>(null);
  const live = useLive();

  useEffect(() => {
    api.config().then(setConfig, (error: unknown) => setCatalogError(describe(error)));
  }, []);

  // The catalog is fetched again whenever a server joins, leaves or changes a list.
  const listsKey = live.stats ? live.stats.servers.map((server) => `${server.name}:${server.listsVersion}`).join('|') : null;
  useEffect(() => {
    let current = true;
    api.catalog().then(
      (response) => {
        if (!current) return;
        setCatalog(response.servers);
        setCatalogError(null);
      },
      (error: unknown) => current && setCatalogError(describe(error)),
    );
    return () => {
      current = false;
    };
  }, [listsKey]);

  const choose = (next: ToolChoice) => {
    setChoice(next);
    document.getElementById('try-panel')?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
  };

  return (
    <>
      <header class="topbar">
        <span class="brand">
          <img src="/console/favicon.svg" alt="" width={22} height={22} />
          mcp-mesh <span class="muted">console</span>
        </span>
        <span class={`pill ${live.connected ? 'pill-live' : 'pill-off'}`} data-testid="connection">
          {live.connected ? 'live' : 'reconnecting…'}
        </span>
        <span class="spacer" />
        {config ? (
          <span class="principal" data-testid="principal">
            {config.principal}
            {config.roles.length > 0 ? <span class="muted"> ({config.roles.join(', ')})</span> : null}
          </span>
        ) : null}
      </header>
      <main class="layout">
        <div class="column">
          <LiveView live={live.stats} />
          <CatalogView servers={catalog} summaries={live.stats?.servers} error={catalogError} onTry={choose} />
        </div>
        <aside class="column side">
          <div id="try-panel">
            <TryPanel servers={catalog} choice={choice} onChoose={setChoice} />
          </div>
          <AuditTailView events={live.events} status={live.auditStatus} jaegerUrl={config?.jaegerUrl ?? null} />
        </aside>
      </main>
    </>
  );
}
