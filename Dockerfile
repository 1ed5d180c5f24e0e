# One image for both processes; docker-compose.yml picks the command. Production runs the compiled build.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.base.json tsconfig.build.json ./
COPY apps apps
COPY packages packages
# The compiled packages, and the ops console's static files (Vite, a dev tool: only its output ships).
RUN npm ci --no-audit --no-fund && npm run build && npm run build:console

FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
COPY --from=build /app/apps apps
COPY --from=build /app/packages packages
RUN npm ci --omit=dev --no-audit --no-fund
USER node
EXPOSE 3000
CMD ["node", "--conditions=ecodrix-dist", "apps/api/dist/main.js"]
