# One image for both processes; docker-compose.yml picks the command.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY apps/cli/package.json apps/cli/
COPY apps/bench/package.json apps/bench/
COPY packages/domain/package.json packages/domain/
COPY packages/test-kit/package.json packages/test-kit/
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.base.json tsconfig.json ./
COPY apps apps
COPY packages packages
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "apps/api/src/main.ts"]
