import { useMemo, useState } from 'preact/hooks';
import type { CatalogServer, ServerSummary, ToolView } from '../src/api-types.js';
import { HealthBadge } from './badges.js';
import { formatAge, pretty } from './format.js';

export interface ToolChoice {
  server: string;
  tool: string;
}

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

/** Every word of the query appears in the text (case-insensitive). */
function matches(words: readonly string[], ...texts: (string | undefined)[]): boolean {
  const haystack = texts.filter(Boolean).join(' ').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

function ToolRow({ server, tool, onTry }: { server: string; tool: ToolView; onTry: (choice: ToolChoice) => void }) {
  return (
    <li class="tool" data-testid="tool" data-tool={tool.name}>
      <div class="tool-head">
        <code class="tool-name">{tool.name}</code>
        {tool.title && tool.title !== tool.name ? <span class="muted">{tool.title}</span> : null}
        <button type="button" class="small" onClick={() => onTry({ server, tool: tool.name })} data-testid="try-button">
          Try
        </button>
      </div>
      {tool.description ? <p class="tool-description">{tool.description}</p> : null}
      <details>
        <summary>input schema</summary>
        <pre class="json">{pretty(tool.inputSchema ?? { type: 'object' })}</pre>
        {tool.outputSchema ? (
          <>
            <div class="muted">output schema</div>
            <pre class="json">{pretty(tool.outputSchema)}</pre>
          </>
        ) : null}
      </details>
    </li>
  );
}

function ServerCard({
  server,
  summary,
  tools,
  onTry,
}: {
  server: CatalogServer;
  summary: ServerSummary;
  tools: ToolView[];
  onTry: (choice: ToolChoice) => void;
}) {
  const capabilities = Object.keys(server.capabilities).sort();
  const errors = Object.entries(server.listErrors);
  return (
    <article class="server" id={`server-${server.name}`} data-testid="server-card" data-server={server.name}>
      <header class="server-head">
        <h3>{server.name}</h3>
        <HealthBadge health={summary.health} />
        {server.serverInfo ? (
          <span class="muted" data-testid="server-info">
            {server.serverInfo.title ?? server.serverInfo.name} {server.serverInfo.version}
          </span>
        ) : null}
        {server.protocolVersion ? <span class="muted">MCP {server.protocolVersion}</span> : null}
      </header>
      {capabilities.length > 0 ? (
        <div class="chips" aria-label="capabilities">
          {capabilities.map((name) => (
            <span class="chip" key={name}>
              {name}
            </span>
          ))}
        </div>
      ) : null}
      {server.instructions ? <p class="instructions">{server.instructions}</p> : null}
      <table class="grid replicas">
        <thead>
          <tr>
            <th>replica</th>
            <th>state</th>
            <th class="num">restarts</th>
            <th class="num">in flight</th>
            <th>up</th>
            <th>upstream</th>
          </tr>
        </thead>
        <tbody>
          {summary.replicas.map((replica) => (
            <tr key={replica.instance} data-testid="replica">
              <td>
                <code title={replica.instance}>{replica.instance.slice(0, 12)}</code>
              </td>
              <td>
                <span class={`state state-${replica.state}`}>{replica.state}</span>
              </td>
              <td class="num">{replica.restarts}</td>
              <td class="num">{replica.inFlight}</td>
              <td>{formatAge(replica.startedAt)}</td>
              <td>
                {replica.upstream}
                {replica.sessionMode === 'per-client' ? ' · per-client' : ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {errors.map(([kind, message]) => (
        <p class="error" key={kind}>
          {kind} could not be listed: {message}
        </p>
      ))}
      <h4>
        Tools <span class="muted">{tools.length === server.tools.length ? tools.length : `${tools.length} of ${server.tools.length}`}</span>
      </h4>
      <ul class="tools">
        {tools.map((tool) => (
          <ToolRow key={tool.name} server={server.name} tool={tool} onTry={onTry} />
        ))}
      </ul>
      {server.prompts.length > 0 ? (
        <details>
          <summary>{server.prompts.length} prompts</summary>
          <ul class="plain">
            {server.prompts.map((prompt) => (
              <li key={prompt.name}>
                <code>{prompt.name}</code> <span class="muted">{prompt.description}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {server.resources.length + server.resourceTemplates.length > 0 ? (
        <details>
          <summary>
            {server.resources.length} resources, {server.resourceTemplates.length} templates
          </summary>
          <ul class="plain">
            {[...server.resources, ...server.resourceTemplates].map((resource) => (
              <li key={resource.uri ?? resource.uriTemplate}>
                <code>{resource.uri ?? resource.uriTemplate}</code> <span class="muted">{resource.name}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
    </article>
  );
}

/** Every server the caller may see with its tools; the search narrows servers and tools as you type. */
export function CatalogView({
  servers,
  summaries,
  error,
  onTry,
}: {
  servers: CatalogServer[] | null;
  summaries: ServerSummary[] | undefined;
  error: string | null;
  onTry: (choice: ToolChoice) => void;
}) {
  const [query, setQuery] = useState('');
  const words = useMemo(() => query.toLowerCase().split(/\s+/).filter(Boolean), [query]);
  const shown = useMemo(
    () =>
      (servers ?? [])
        .map((server) => {
          if (matches(words, server.name, server.serverInfo?.name)) return { server, tools: server.tools };
          return { server, tools: server.tools.filter((tool) => matches(words, server.name, tool.name, tool.title, tool.description)) };
        })
        .filter(({ tools, server }) => tools.length > 0 || words.length === 0 || matches(words, server.name)),
    [servers, words],
  );
  const toolCount = shown.reduce((sum, { tools }) => sum + tools.length, 0);
  return (
    <section class="panel" data-testid="catalog">
      <div class="panel-head">
        <h2>Catalog</h2>
        <input
          type="search"
          class="search"
          placeholder="Search servers, tools and descriptions"
          value={query}
          onInput={(event) => setQuery((event.target as HTMLInputElement).value)}
          data-testid="catalog-search"
          aria-label="Search the catalog"
        />
        <span class="muted" data-testid="catalog-count">
          {plural(toolCount, 'tool')} on {plural(shown.length, 'server')}
        </span>
      </div>
      {error ? <p class="error">{error}</p> : null}
      {servers === null && !error ? <p class="muted">Loading the catalog…</p> : null}
      {servers !== null && shown.length === 0 ? <p class="muted">Nothing matches “{query}”.</p> : null}
      {shown.map(({ server, tools }) => (
        <ServerCard
          key={server.name}
          server={server}
          summary={summaries?.find((summary) => summary.name === server.name) ?? server}
          tools={tools}
          onTry={onTry}
        />
      ))}
    </section>
  );
}
