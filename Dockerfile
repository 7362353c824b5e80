# syntax=docker/dockerfile:1
# One image with the mcp-mesh CLI: `mcp-mesh ingress`, `mcp-mesh bridge …`, `mcp-mesh up`.

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json turbo.json tsconfig.base.json ./
COPY packages ./packages
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --filter=mcp-mesh...

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /src/package.json /src/package-lock.json ./
COPY --from=build /src/packages ./packages
# Runtime dependencies only; the packages' compiled dist/ came with the copy above.
RUN npm ci --omit=dev --no-audit --no-fund --workspace mcp-mesh --include-workspace-root=false \
  && npm cache clean --force \
  && rm -rf packages/*/src packages/*/tsconfig.json \
  && mkdir -p /home/node/.mcp-mesh && chown -R node:node /home/node/.mcp-mesh
USER node
ENV MCP_MESH_HOME=/home/node/.mcp-mesh
# A 4 MB young-generation semi-space keeps an ingress under load ~10 MB smaller (measured; it can
# only be set as a node flag; the CLI sets the old generation's growth itself). docs/performance.md.
ENV NODE_OPTIONS=--max-semi-space-size=4
EXPOSE 8080 9464
ENTRYPOINT ["node", "/app/packages/cli/dist/main.js"]
CMD ["--help"]
