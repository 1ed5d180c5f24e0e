import { invalidAutomation } from "../shared/crm-errors.js";
import { actionConfigProblem } from "./automation-actions.js";
import { isTrigger, TRIGGERS, type Trigger, triggerConfigProblem } from "./automation-triggers.js";
import {
  ACTION_TYPES,
  type ActionType,
  type AutomationAction,
  type AutomationInput,
} from "./automation-types.js";

export interface NormalizedAutomation {
  name: string;
  description: string | null;
  trigger: Trigger;
  triggerConfig: Record<string, unknown>;
  actions: AutomationAction[];
  enabled: boolean;
}

const isActionType = (value: string): value is ActionType =>
  (ACTION_TYPES as readonly string[]).includes(value);

/**
 * The whole automation checked as one: trigger, its config, every action's type and config, and the
 * `{{variables}}` they use (a variable must exist for the trigger). 400 naming the first bad field.
 * The route schema has already checked the shape (types, lengths, unknown top-level fields).
 */
export function normalizeAutomation(input: AutomationInput): NormalizedAutomation {
  if (!isTrigger(input.trigger)) {
    throw invalidAutomation(`body/trigger must be one of ${TRIGGERS.join(", ")} (got ${input.trigger})`);
  }
  const trigger = input.trigger;
  const triggerConfig = input.triggerConfig ?? {};
  const triggerProblem = triggerConfigProblem(trigger, triggerConfig, "body/triggerConfig");
  if (triggerProblem) throw invalidAutomation(triggerProblem);
  const actions = input.actions.map((action, index): AutomationAction => {
    const path = `body/actions/${index}`;
    if (!isActionType(action.type)) {
      throw invalidAutomation(`${path}/type must be one of ${ACTION_TYPES.join(", ")} (got ${action.type})`);
    }
    const config = action.config ?? {};
    const problem = actionConfigProblem(action.type, config, `${path}/config`, trigger);
    if (problem) throw invalidAutomation(problem);
    return { type: action.type, delayMinutes: action.delayMinutes ?? 0, config };
  });
  return {
    name: input.name.trim(),
    description: input.description?.trim() || null,
    trigger,
    triggerConfig,
    actions,
    enabled: input.enabled ?? true,
  };
}
