# syntax=docker/dockerfile:1
# One image for every Switchboard role; compose picks the command (api, gateway, migrate).

# ---- build: full dependencies, Prisma client generation, SWC build -------------------------
FROM node:22-bookworm-slim AS build
WORKDIR /app
ENV NX_DAEMON=false NX_NO_CLOUD=true
COPY package.json package-lock.json prisma.config.ts ./
COPY scripts ./scripts
COPY prisma ./prisma
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund --ignore-scripts

# ---- runtime: production dependencies and compiled code only, non-root -------------------
FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/prisma ./prisma
COPY --from=build --chown=root:root /app/plugins ./plugins
# DATA_DIR is only used by the embedded mode; give the non-root user a place for it anyway.
RUN mkdir -p /app/.data && chown node:node /app/.data
USER node
EXPOSE 3000 8080 9091 9092
# Overridden per service in docker-compose.yml (API_PORT or GATEWAY_PORT).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.HEALTH_PORT||3000)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/apps/api/src/main.js"]
