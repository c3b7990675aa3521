// What a tracked link accepts from the API and the dashboard, validated once for both.
import { z } from "zod";

export const SLUG_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** javascript:, data:, file: and the rest are refused: a short link only ever leads to a web page. */
export function isWebUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname.length > 0;
  } catch {
    return false;
  }
}

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), "must not contain control characters")
    .nullish()
    .transform((value) => (value ? value : null));

const contextFields = {
  campaignId: optionalText(100),
  source: optionalText(200),
  medium: optionalText(200),
  content: optionalText(200),
  leadId: optionalText(100),
};

export const destinationUrlSchema = z
  .string()
  .trim()
  .max(4096)
  // A URL parser would quietly drop a tab or line break, but the stored text is what the redirect sends.
  .refine((value) => !/[\s\p{Cc}]/u.test(value), "must not contain spaces, tabs, line breaks or other control characters (encode a space as %20)")
  .refine(isWebUrl, "must be an absolute http or https URL");

export const slugSchema = z
  .string()
  .trim()
  .regex(SLUG_PATTERN, "must be 1-64 letters, digits, '-' or '_', starting with a letter or digit");

export const linkCreateSchema = z.object({
  destinationUrl: destinationUrlSchema,
  slug: slugSchema.optional(),
  title: z.string().trim().max(200).optional(),
  ...contextFields,
});

export const linkUpdateSchema = z.object({
  destinationUrl: destinationUrlSchema.optional(),
  slug: slugSchema.optional(),
  title: z.string().trim().max(200).optional(),
  archived: z.boolean().optional(),
  campaignId: contextFields.campaignId.optional(),
  source: contextFields.source.optional(),
  medium: contextFields.medium.optional(),
  content: contextFields.content.optional(),
  leadId: contextFields.leadId.optional(),
});

export type LinkCreateInput = z.input<typeof linkCreateSchema>;
export type LinkUpdateInput = z.input<typeof linkUpdateSchema>;

/** A zod failure as one readable sentence: "field: problem". */
export function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return "invalid input";
  const field = issue.path.join(".");
  return field ? `${field}: ${issue.message}` : issue.message;
}
