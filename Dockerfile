# The ops console's static build (apps/console/dist): Vite is a dev tool, so it runs in its own stage
# and only its output goes into the image.
FROM node:24-bookworm-slim AS console
WORKDIR /build/apps/console
# Vite alone (the console's package.json lists the workspace's test packages too); ESM for vite.config.ts.
RUN echo '{ "private": true, "type": "module" }' > package.json \
  && npm install --no-save --no-audit --no-fund vite@8.3.8
COPY apps/console/vite.config.ts ./
COPY apps/console/web web
RUN npx vite build

# One image for both processes; docker-compose.yml picks the command.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY apps/bench/package.json apps/bench/
COPY apps/console/package.json apps/console/
COPY packages/domain/package.json packages/domain/
COPY packages/test-kit/package.json packages/test-kit/
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY apps apps
COPY packages packages
COPY --from=console /build/apps/console/dist apps/console/dist
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
