// The queue owns it (integrations derive follow-up job ids the same way); the CRM's modules import it here.
export { derivedObjectId } from "@ecodrix/queue";
