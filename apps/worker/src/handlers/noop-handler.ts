import type { JobHandler } from "@ecodrix/queue";

/** Does nothing and says so: for benchmarks and smoke tests of the queue itself. */
export const noopHandler: JobHandler = async () => ({ noop: true });
