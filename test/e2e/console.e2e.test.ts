import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AuditPublisher } from '@mcp-mesh/audit';
import { MeshConsole, type CatalogResponse, type LiveStats } from '@mcp-mesh/console';
import { Ingress } from '@mcp-mesh/ingress';
import { createPolicy, generateApiKey, hashApiKey, parsePolicyConfig } from '@mcp-mesh/policy';
import { newAuditEventId } from '@mcp-mesh/protocol';
import { connectNats, createLogger, IngressConfigSchema } from '@mcp-mesh/runtime';
import { freePort, NatsServer } from '@mcp-mesh/testing';
import type { NatsConnection } from '@nats-io/transport-node';
import { CLI } from '../support/paths.js';
import { TestProcess, waitFor } from '../support/processes.js';
import { startFixtureBridge } from '../support/requests.js';

/** Debian's Chromium (CI installs it with apt-get); the test never downloads a browser. */
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--headless',
];
const JAEGER = 'http://jaeger.example.test:16686';
/** Where the test leaves pictures of the page: what a person sees first, and the whole page. */
const SCREENSHOT = join(tmpdir(), 'mcp-mesh-console.png');
const SCREENSHOT_FULL = join(tmpdir(), 'mcp-mesh-console-full.png');
/** The tools every fixture server offers. */
const FIXTURE_TOOLS = ['add', 'add_tool', 'big', 'crash', 'echo', 'fail', 'meta', 'progress', 'sleep', 'throw', 'whoami'];

const silent = createLogger({ name: 'console-test', level: 'silent' });
const keys = { operator: generateApiKey(), viewer: generateApiKey() };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

describe('web console', () => {
  let nats: NatsServer;
  let nc: NatsConnection;
  let audit: AuditPublisher;
  let meshConsole: MeshConsole;
  let ingress: Ingress;
  const bridges: TestProcess[] = [];
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const pageErrors: string[] = [];
  const foreignRequests: string[] = [];

  async function addBridge(name: string): Promise<void> {
    const bridge = startFixtureBridge(nats.url, name, 'warn');
    bridges.push(bridge);
    await waitFor(
      () => {
        if (!bridge.running) throw new Error(`bridge ${name} exited:\n${bridge.stderr}`);
        return ingress.registry.isLive(name);
      },
      `bridge ${name} to become live`,
      20_000,
    );
  }

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `Chromium is not installed at ${CHROMIUM}: the console's end-to-end test drives it headless. ` +
          'Install it with `apt-get install -y chromium` (Debian/Ubuntu); no browser is ever downloaded.',
      );
    }
    nats = await NatsServer.start();
    nc = await connectNats({ url: nats.url, name: 'console-test' });
    audit = await AuditPublisher.open({
      nc,
      logger: silent,
      dir: mkdtempSync(join(tmpdir(), 'mcp-mesh-console-outbox-')),
      publishTimeoutMs: 1_000,
    });
    const policy = await createPolicy(
      parsePolicyConfig({
        auth: {
          apiKeys: [
            { id: 'operator', principal: 'operator', hash: hashApiKey(keys.operator), roles: ['operator'] },
            { id: 'viewer', principal: 'viewer', hash: hashApiKey(keys.viewer), roles: ['viewer'] },
          ],
        },
        rbac: {
          roles: {
            operator: { allow: [{ servers: ['*'] }] },
            viewer: { allow: [{ servers: ['alpha'], tools: ['echo', 'whoami'] }] },
          },
        },
      }),
    );
    // Wired as serve-ingress wires it: the console is made first, its routes and hook go to the ingress.
    meshConsole = new MeshConsole({ ingress: () => ingress, nc, logger: silent, jaegerUrl: `${JAEGER}/`, requestTimeoutMs: 10_000 });
    ingress = new Ingress({
      nc,
      config: IngressConfigSchema.parse({ port: 0, requestTimeoutMs: 10_000, listTimeoutMs: 3_000 }),
      logger: silent,
      audit,
      policy,
      discoverSettleMs: 50,
      routes: meshConsole.routes,
      onRequestFinished: meshConsole.onRequestFinished,
    });
    await ingress.start();
    await Promise.all([addBridge('alpha'), addBridge('beta')]);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
    context = await browser.newContext({ viewport: { width: 1440, height: 1000 }, extraHTTPHeaders: bearer(keys.operator) });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('request', (request) => {
      if (!request.url().startsWith(ingress.url)) foreignRequests.push(request.url());
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await meshConsole?.close();
    await Promise.allSettled(bridges.map((bridge) => bridge.stop()));
    await ingress?.close();
    await audit?.close(1_000);
    await nc?.close();
    await nats?.stop();
  });

  it('loads the page from the ingress, with a strict Content-Security-Policy and no inline script', async () => {
    const response = await page.goto(`${ingress.url}/`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers['content-type']).toBe('text/html; charset=utf-8');
    expect(headers['content-security-policy']).toContain("script-src 'self'");
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['x-content-type-options']).toBe('nosniff');
    const html = await response!.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const script = await page.request.get(`${ingress.url}/console/console.js`);
    expect(script.headers()['content-type']).toBe('text/javascript; charset=utf-8');
    await page.getByTestId('principal').filter({ hasText: 'operator' }).waitFor();
    expect(await page.locator('.boot').count()).toBe(0);
    await page.locator('[data-testid=connection]', { hasText: 'live' }).waitFor();
  });

  it('is behind the ingress authentication', async () => {
    expect((await fetch(`${ingress.url}/`)).status).toBe(401);
    expect((await fetch(`${ingress.url}/api/catalog`)).status).toBe(401);
    expect((await fetch(`${ingress.url}/api/catalog`, { headers: bearer(keys.viewer) })).status).toBe(200);
  });

  it('lists every server with its replicas and every tool with its description and schema', async () => {
    for (const server of ['alpha', 'beta']) {
      const card = page.locator(`[data-testid=server-card][data-server=${server}]`);
      await card.waitFor();
      await expect.poll(() => card.getByTestId('tool').count()).toBe(FIXTURE_TOOLS.length);
      const names = await card.getByTestId('tool').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-tool')));
      expect(names.sort()).toEqual(FIXTURE_TOOLS);
      expect(await card.getByTestId('health').textContent()).toBe('healthy');
      expect(await card.getByTestId('replica').count()).toBe(1);
      expect(await card.getByTestId('server-info').textContent()).toContain(server);
    }
    const echo = page.locator('[data-testid=server-card][data-server=alpha] [data-testid=tool][data-tool=echo]');
    expect(await echo.locator('.tool-description').textContent()).toContain('Returns the given text unchanged');
    await echo.locator('summary').click();
    expect(await echo.locator('pre').first().textContent()).toContain('"text"');
  });

  it('narrows the catalog as you type in the search box', async () => {
    const search = page.getByTestId('catalog-search');
    const visibleTools = () => page.locator('[data-testid=tool]').count();
    await search.fill('whoami');
    await expect.poll(visibleTools).toBe(2);
    await search.fill('alpha echo');
    await expect.poll(visibleTools).toBe(1);
    expect(await page.locator('[data-testid=server-card]').count()).toBe(1);
    await search.fill('structured output');
    await expect.poll(visibleTools).toBe(2); // `add` on both servers, by its description
    await search.fill('no such thing');
    await expect.poll(visibleTools).toBe(0);
    await search.fill('');
    await expect.poll(visibleTools).toBe(2 * FIXTURE_TOOLS.length);
  });

  it('calls a tool from the try-it panel, shows the result, and the call appears in the live view and the audit tail', async () => {
    await page.locator('[data-testid=server-card][data-server=alpha] [data-tool=echo] [data-testid=try-button]').click();
    expect(await page.getByTestId('try-server').inputValue()).toBe('alpha');
    expect(await page.getByTestId('try-tool').inputValue()).toBe('echo');
    // The arguments start from the tool's input schema.
    expect(JSON.parse(await page.getByTestId('try-args').inputValue())).toEqual({ text: '' });
    await page.getByTestId('try-args').fill(JSON.stringify({ text: 'hello from the console' }));
    await page.getByTestId('try-call').click();
    const outcome = page.locator('[data-testid=try-outcome][data-outcome=ok]');
    await outcome.waitFor({ timeout: 15_000 });
    expect(await page.getByTestId('try-result').textContent()).toBe('hello from the console');

    // The audit event of the call, from JetStream, in the tail: as the caller, through /servers/alpha/mcp.
    const row = page.locator('[data-testid=audit-row][data-kind=request][data-server=alpha][data-target=echo]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.textContent()).toContain('operator');
    expect(await page.getByTestId('audit-status').textContent()).toBe('live');

    // The live numbers counted it through the ingress's finished-request hook.
    const alpha = page.locator('[data-testid=stats-row][data-server=alpha]');
    await expect.poll(async () => Number(await alpha.locator('td').last().textContent()), { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    expect(await alpha.getByTestId('rate').textContent()).not.toBe('0');
    expect(await alpha.getByTestId('p95').textContent()).toMatch(/ms$/);
    expect(await alpha.getByTestId('error-rate').textContent()).toBe('0%');
  });

  it('shows a tool error as such', async () => {
    await page.getByTestId('try-tool').selectOption('fail');
    // The panel fills in example arguments for the chosen tool after it renders: wait for them,
    // or they would overwrite what is typed next.
    await expect.poll(() => page.getByTestId('try-args').inputValue(), { timeout: 10_000 }).toContain('message');
    await page.getByTestId('try-args').fill(JSON.stringify({ message: 'it went wrong' }));
    await page.getByTestId('try-call').click();
    await page.locator('[data-testid=try-outcome][data-outcome=tool_error]').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('try-result').textContent()).toBe('it went wrong');
    await page.locator('[data-testid=audit-row][data-server=alpha][data-target=fail]').first().waitFor({ timeout: 30_000 });
  }, 60_000);

  it('links an audit event to its trace in Jaeger', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    audit.record({
      v: 1,
      id: newAuditEventId(),
      time: new Date().toISOString(),
      kind: 'request',
      traceId,
      spanId: '00f067aa0ba902b7',
      principal: 'someone',
      endpoint: '/mcp',
      server: 'beta',
      method: 'tools/call',
      target: 'whoami',
      outcome: 'ok',
      latencyMs: 2.5,
    });
    const link = page.locator('[data-testid=audit-row][data-target=whoami] [data-testid=trace-link]');
    await link.waitFor({ timeout: 15_000 });
    expect(await link.getAttribute('href')).toBe(`${JAEGER}/trace/${traceId}`);
    expect(await link.getAttribute('rel')).toContain('noopener');
  });

  it('looks right, with no error and nothing loaded from another origin', async () => {
    await page.screenshot({ path: SCREENSHOT });
    await page.screenshot({ path: SCREENSHOT_FULL, fullPage: true });
    expect(pageErrors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it('shows a principal only what it may use, and lets it call only what it may call', async () => {
    const viewer = bearer(keys.viewer);
    const catalog = (await (await fetch(`${ingress.url}/api/catalog`, { headers: viewer })).json()) as CatalogResponse;
    expect(catalog.servers.map((server) => server.name)).toEqual(['alpha']);
    expect(catalog.servers[0]!.tools.map((tool) => tool.name).sort()).toEqual(['echo', 'whoami']);

    const call = (body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${ingress.url}/api/call`, {
        method: 'POST',
        headers: { ...viewer, 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
    const denied = await call({ server: 'alpha', tool: 'add', arguments: { a: 1, b: 2 } });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { code: string; message: string } }).error).toMatchObject({
      code: 'FORBIDDEN',
      message: expect.stringContaining('rbac.default-deny'),
    });
    expect((await call({ server: 'beta', tool: 'echo', arguments: { text: 'x' } })).status).toBe(404);
    const allowed = await call({ server: 'alpha', tool: 'whoami' });
    expect(allowed.status).toBe(200);
    expect(await allowed.json()).toMatchObject({ outcome: 'ok', result: { structuredContent: { name: 'alpha' } } });

    const invalid = await call({ server: 'alpha', tool: 'echo', arguments: [1, 2], extra: true });
    expect(invalid.status).toBe(400);
    expect(((await invalid.json()) as { error: { issues: string[] } }).error.issues.length).toBe(2);
    expect((await call({ server: 'alpha', tool: 'echo' }, { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await fetch(`${ingress.url}/api/call`, { headers: viewer })).status).toBe(405);
    expect((await fetch(`${ingress.url}/api/nothing`, { headers: viewer })).status).toBe(404);
    // Paths the console does not serve stay the ingress's.
    expect((await fetch(`${ingress.url}/elsewhere`, { headers: viewer })).status).toBe(404);
  });

  it('streams live numbers and audit events of visible servers only', async () => {
    const controller = new AbortController();
    const response = await fetch(`${ingress.url}/api/live`, { headers: bearer(keys.viewer), signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    let text = '';
    const decoder = new TextDecoder();
    while (!text.includes('event: stats')) text += decoder.decode((await reader.read()).value);
    // Let the backlog of audit events arrive too.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    for (;;) {
      const chunk = await Promise.race([reader.read(), new Promise<null>((resolve) => setTimeout(() => resolve(null), 300))]);
      if (chunk === null || chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    controller.abort();
    const events = text
      .split('\n\n')
      .map((block) => ({ event: /^event: (.*)$/m.exec(block)?.[1], data: /^data: (.*)$/m.exec(block)?.[1] }))
      .filter((block) => block.event && block.data);
    const stats = JSON.parse(events.find((block) => block.event === 'stats')!.data!) as LiveStats;
    expect(stats.servers.map((server) => server.name)).toEqual(['alpha']);
    expect(Object.keys(stats.stats)).not.toContain('beta');
    const audited = events.filter((block) => block.event === 'audit').map((block) => JSON.parse(block.data!) as { server?: string });
    expect(audited.length).toBeGreaterThan(0);
    expect(audited.every((event) => event.server !== 'beta')).toBe(true);
  });
});

describe('mcp-mesh ingress serves the console', () => {
  let nats: NatsServer;
  const started: TestProcess[] = [];

  async function ingress(args: string[], env: Record<string, string> = {}): Promise<string> {
    const port = await freePort();
    const process_ = new TestProcess(
      process.execPath,
      [CLI, 'ingress', '--port', String(port), '--nats-url', nats.url, '--no-audit', ...args],
      {
        env: { ...process.env, MCP_MESH_HOME: mkdtempSync(join(tmpdir(), 'mcp-mesh-console-home-')), ...env },
      },
    );
    started.push(process_);
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      async () => {
        if (!process_.running) throw new Error(`the ingress exited:\n${process_.stderr}`);
        return (await fetch(`${url}/healthz`).catch(() => undefined))?.ok === true;
      },
      'the ingress to listen',
      20_000,
    );
    return url;
  }

  beforeAll(async () => {
    nats = await NatsServer.start();
  });
  afterAll(async () => {
    await Promise.allSettled(started.map((process_) => process_.stop()));
    await nats?.stop();
  });

  it('at / by default, linking traces to the Jaeger of $MCP_MESH_JAEGER_URL', async () => {
    const url = await ingress([], { MCP_MESH_JAEGER_URL: 'http://jaeger.example.test:16686' });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/console/console.js');
    expect(await (await fetch(`${url}/api/config`)).json()).toMatchObject({
      principal: 'anonymous',
      jaegerUrl: 'http://jaeger.example.test:16686',
    });
    // With audit off there is no stream to tail: the page is told so, the rest works.
    const controller = new AbortController();
    const live = await fetch(`${url}/api/live`, { signal: controller.signal });
    const reader = live.body!.getReader();
    let text = '';
    while (!text.includes('is audit enabled')) text += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
    expect(text).toContain('event: audit-status');
    expect(text).toContain('"state":"unavailable"');
  });

  it('not with --no-console; a Jaeger URL that is not http(s) is refused', async () => {
    const url = await ingress(['--no-console']);
    expect((await fetch(`${url}/`)).status).toBe(404);
    const refused = new TestProcess(process.execPath, [CLI, 'ingress', '--nats-url', nats.url, '--jaeger-url', 'javascript:alert(1)']);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr).toContain('must be an http(s) URL');
  });
});
