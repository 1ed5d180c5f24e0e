import { badRequest } from "@ecodrix/platform";
import { ObjectId } from "mongodb";
import { CrmErrorCode } from "./crm-errors.js";

/**
 * Opaque, stable list cursors: the sort key of the last item returned (and its `_id`, the tie-break),
 * base64url-encoded. Items inserted or removed meanwhile never shift a page (no skip/offset).
 */
export interface CursorPosition {
  id: ObjectId;
  /** The sort field's value when the list is not sorted by `_id` alone (a date as epoch ms). */
  at?: number;
}

export function encodeCursor(position: CursorPosition): string {
  const text = position.at === undefined ? String(position.id) : `${position.at}:${position.id}`;
  return Buffer.from(text, "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): CursorPosition {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const match = /^(?:(-?\d{1,16}):)?([0-9a-f]{24})$/.exec(text);
  if (!match?.[2]) throw badRequest(CrmErrorCode.invalidCursor, "querystring/cursor is not a valid cursor");
  return { id: new ObjectId(match[2]), ...(match[1] === undefined ? {} : { at: Number(match[1]) }) };
}

/** `limit` + 1 items were fetched: the page, and the cursor of its last item when there is more. */
export function pageOf<T>(
  items: T[],
  limit: number,
  positionOf: (item: T) => CursorPosition,
): { items: T[]; nextCursor: string | null } {
  if (items.length <= limit) return { items, nextCursor: null };
  const page = items.slice(0, limit);
  const last = page[page.length - 1];
  return { items: page, nextCursor: last === undefined ? null : encodeCursor(positionOf(last)) };
}

/** Ids in URLs are validated by the route schema; this turns one into an ObjectId. */
export function toObjectId(id: string): ObjectId {
  return new ObjectId(id.toLowerCase());
}

export const OBJECT_ID_PATTERN = "^[0-9a-fA-F]{24}$";
