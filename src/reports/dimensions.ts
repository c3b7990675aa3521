// The attribution dimensions a report groups and filters by, and the rollup column each is stored in.
export const GROUP_BY = ["link", "campaign", "source", "medium", "content", "lead"] as const;
export type GroupBy = (typeof GROUP_BY)[number];

export const GROUP_BY_COLUMN = {
  link: "link_id",
  campaign: "campaign_id",
  source: "source",
  medium: "medium",
  content: "content",
  lead: "lead_id",
} as const satisfies Record<GroupBy, string>;
