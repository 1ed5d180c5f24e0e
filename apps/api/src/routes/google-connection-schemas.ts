/** Response schemas shared by the admin and tenant Google routes. */
export const connectLinkSchema = {
  type: "object",
  additionalProperties: false,
  properties: {
    id: { type: "string", description: "The link's id (not a secret)" },
    url: { type: "string", description: "Open it in a browser as the clinic's Google account" },
    expiresAt: { type: "string", format: "date-time" },
  },
  required: ["id", "url", "expiresAt"],
} as const;
