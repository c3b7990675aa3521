// A tracked link as stored, and as every reader of it sees it.
export interface TrackedLink {
  linkId: string;
  projectId: string;
  slug: string;
  destinationUrl: string;
  campaignId: string | null;
  source: string | null;
  medium: string | null;
  content: string | null;
  leadId: string | null;
  title: string;
  archived: boolean;
  createdAt: number;
  updatedAt: number;
  clicks: number;
  lastClickedAt: number | null;
}

export interface LinkRow {
  id: string;
  project_id: string;
  slug: string;
  destination_url: string;
  campaign_id: string | null;
  source: string | null;
  medium: string | null;
  content: string | null;
  lead_id: string | null;
  title: string;
  archived: number;
  created_at: number;
  updated_at: number;
  clicks: number | null;
  last_clicked_at: number | null;
}

export const LINK_SELECT = `SELECT l.id, l.project_id, l.slug, l.destination_url, l.campaign_id, l.source, l.medium, l.content,
  l.lead_id, l.title, l.archived, l.created_at, l.updated_at, c.clicks, c.last_clicked_at
  FROM links l LEFT JOIN link_counters c ON c.link_id = l.id`;

export function toLink(row: LinkRow): TrackedLink {
  return {
    linkId: row.id,
    projectId: row.project_id,
    slug: row.slug,
    destinationUrl: row.destination_url,
    campaignId: row.campaign_id,
    source: row.source,
    medium: row.medium,
    content: row.content,
    leadId: row.lead_id,
    title: row.title,
    archived: row.archived === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    clicks: row.clicks ?? 0,
    lastClickedAt: row.last_clicked_at,
  };
}

