import type { JobHandlers } from "@ecodrix/domain";
import { echoHandler } from "./echo-handler.js";

/** Every job type the worker runs, in one table. Add a handler file and a line here. */
export const handlers: JobHandlers = {
  echo: echoHandler,
};
