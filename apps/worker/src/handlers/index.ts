import type { JobHandlers } from "@ecodrix/queue";
import { echoHandler } from "./echo-handler.js";
import { noopHandler } from "./noop-handler.js";
import { scoreRecalculationHandler } from "./score-recalculation-handler.js";

/** Every job type the worker runs, in one table. Add a handler file and a line here. */
export const handlers: JobHandlers = {
  echo: echoHandler,
  noop: noopHandler,
  score_recalculation: scoreRecalculationHandler,
};
