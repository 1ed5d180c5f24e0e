import { enqueueJob, type QueueProducer } from "@ecodrix/queue";
import { type Db, ObjectId } from "mongodb";
import { automationEventContract } from "../automations/automation-contracts.js";
import { type AutomationEventType, LEAD_EVENT_OF } from "../automations/automation-triggers.js";
import type { LeadEventDocument } from "./lead-event-types.js";
import { createLeadEventsRepository } from "./lead-events-repository.js";

/** Something that happened to a lead, as the API (or an automation's `update_lead`) reports it. */
export interface CrmEvent {
  type: AutomationEventType;
  leadId: ObjectId;
  appointmentId?: ObjectId;
  data?: Record<string, unknown>;
  /** How many automations led here (0: a change made through the API). */
  depth?: number;
  /** A retried producer passes the id it used before, so the event is written and run once. */
  id?: ObjectId;
  at?: Date;
}

export interface PublishedEvent {
  eventId: string;
  jobId: string;
}

/** The timeline entry of an event (also what the worker writes if the producer stopped half-way). */
export function leadEventOf(
  event: Pick<CrmEvent, "type" | "leadId" | "appointmentId" | "data">,
  id: ObjectId,
  at: Date,
): LeadEventDocument | null {
  const type = LEAD_EVENT_OF[event.type];
  if (!type) return null;
  return {
    _id: id,
    leadId: event.leadId,
    type,
    at,
    data: { ...(event.appointmentId ? { appointmentId: String(event.appointmentId) } : {}), ...event.data },
  };
}

/**
 * Publishes events: for each, one `automation_event` job (its id and dedupe key are the event id, so a
 * retried producer never makes a second), then its timeline entry. The job goes first: should the
 * process stop in between, the worker writes the missing timeline entry from the job, whereas a
 * timeline entry without its job would never run automations. The lead's score recalculation is
 * enqueued by the worker once it has processed the event (one step less for the API's request).
 */
export async function publishCrmEvents(
  deps: { db: Db; queue: Pick<QueueProducer, "enqueue">; clientCode: string },
  events: readonly CrmEvent[],
): Promise<PublishedEvent[]> {
  const timeline = createLeadEventsRepository(deps.db);
  const published: PublishedEvent[] = [];
  for (const event of events) {
    const id = event.id ?? new ObjectId();
    const at = event.at ?? new Date();
    const job = await enqueueJob(deps.queue, automationEventContract, {
      clientCode: deps.clientCode,
      id,
      dedupeKey: String(id),
      payload: {
        eventId: String(id),
        type: event.type,
        leadId: String(event.leadId),
        ...(event.appointmentId ? { appointmentId: String(event.appointmentId) } : {}),
        ...(event.data ? { data: event.data } : {}),
        ...(event.depth ? { depth: event.depth } : {}),
      },
    });
    const entry = leadEventOf(event, id, at);
    if (entry) await timeline.insertOnce(entry);
    published.push({ eventId: String(id), jobId: String(job._id) });
  }
  return published;
}
