// PM2: `npm run build && pm2 start ecosystem.config.cjs`. The API runs in cluster mode (one process per core by
// default); workers run in fork mode and scale on their own: WORKER_INSTANCES=4 pm2 reload …
// Both read their settings from the environment (MONGODB_URI, CORE_API_TOKEN, ENCRYPTION_KEY, …).
module.exports = {
  apps: [
    {
      name: "ecodrix-api",
      // The compiled build (`npm run build`): the packages' "ecodrix-dist" export condition picks dist/.
      script: "apps/api/dist/main.js",
      node_args: "--conditions=ecodrix-dist",
      exec_mode: "cluster",
      instances: process.env.API_INSTANCES ?? "max",
      // Zero-downtime `pm2 reload ecodrix-api`: each new instance says "ready" once it listens and
      // reaches MongoDB; only then does PM2 stop (SIGINT) the instance it replaces, which stops
      // accepting, drains its keep-alive connections (Connection: close, up to 5 s) and exits.
      wait_ready: true,
      // How long PM2 waits for "ready" before it stops the old instance anyway.
      listen_timeout: 30_000,
      // close-with-grace in the API allows 10 s for the drain and in-flight requests.
      kill_timeout: 12_000,
      env: { NODE_ENV: "production" },
    },
    {
      name: "ecodrix-worker",
      script: "apps/worker/dist/main.js",
      node_args: "--conditions=ecodrix-dist",
      exec_mode: "fork",
      instances: Number(process.env.WORKER_INSTANCES ?? 1),
      // Longer than WORKER_SHUTDOWN_TIMEOUT_MS (default 25 s): running jobs finish or are released.
      kill_timeout: 35_000,
      env: { NODE_ENV: "production" },
    },
  ],
};
