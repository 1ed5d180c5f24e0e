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

# One image for both processes; docker-compose.yml picks the command. Production runs the compiled build.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY apps apps
COPY packages packages
RUN npm ci --no-audit --no-fund && npm run build

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY --from=build /app/apps apps
COPY --from=build /app/packages packages
RUN npm ci --omit=dev --no-audit --no-fund
COPY --from=console /build/apps/console/dist apps/console/dist
USER node
EXPOSE 3000
CMD ["node", "--conditions=ecodrix-dist", "apps/api/dist/main.js"]
