// The sections of a project's dashboard, in navigation order, with their paths under /dashboard/{projectId}.
export const SECTIONS = [
  { id: "overview", label: "Overview", path: "" },
  { id: "links", label: "Links", path: "/links" },
  { id: "campaigns", label: "Campaigns", path: "/campaigns" },
  { id: "sources", label: "Sources", path: "/sources" },
  { id: "mediums", label: "Mediums", path: "/mediums" },
  { id: "contents", label: "Contents", path: "/contents" },
  { id: "leads", label: "Leads", path: "/leads" },
  { id: "traffic", label: "Traffic", path: "/traffic" },
  { id: "funnel", label: "Funnel", path: "/funnel" },
  { id: "payments", label: "Payments", path: "/payments" },
  { id: "mrr", label: "MRR", path: "/mrr" },
  { id: "profiles", label: "Profiles", path: "/profiles" },
  { id: "live", label: "Live", path: "/live" },
  { id: "diagnostics", label: "Doctor", path: "/diagnostics" },
  { id: "settings", label: "Settings", path: "/settings" },
] as const;

export type SectionId = (typeof SECTIONS)[number]["id"];

/** The section a path under /dashboard/{projectId} belongs to ("/links/abc" → links). */
export function sectionOf(subPath: string): SectionId | null {
  const first = subPath.split("/")[1] ?? "";
  if (first === "") return "overview";
  return SECTIONS.find((s) => s.path === `/${first}`)?.id ?? null;
}
