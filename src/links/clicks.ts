// A click on a tracked link: the clicks row, the link_clicked event with its rollup, the link's counter.
import type { Database } from "bun:sqlite";
import { BatchSums } from "../db/batch-sums.ts";
import { recordEvent } from "../tracking/events.ts";
import { prepared } from "../tracking/statements.ts";
import type { UserAgentClass } from "../tracking/user-agent.ts";
import type { ActiveLink } from "./directory.ts";

export interface Click {
  clickId: string;
  link: ActiveLink;
  ts: number;
  visitorId: string | null;
  referrerHost: string | null;
  agent: UserAgentClass;
  country: string | null;
}

const INSERT_CLICK = `INSERT INTO clicks (id, project_id, link_id, ts, visitor_id, referrer_host, browser, os, device, country)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const COUNT_CLICKS = `INSERT INTO link_counters (link_id, project_id, clicks, last_clicked_at) VALUES (?, ?, ?, ?)
  ON CONFLICT (link_id) DO UPDATE SET clicks = clicks + excluded.clicks, last_clicked_at = max(coalesce(last_clicked_at, 0), excluded.last_clicked_at)`;

/** Per link: [clicks, last click's ts]. */
const linkCounters = new BatchSums(
  (db, [linkId, projectId], [clicks, lastClickedAt]) => prepared(db, COUNT_CLICKS).run(linkId!, projectId!, clicks!, lastClickedAt!),
  (into, [clicks, lastClickedAt]) => {
    into[0]! += clicks!;
    into[1] = Math.max(into[1]!, lastClickedAt!);
  },
  "link_counters",
);

/** Call inside a write. */
export function recordClick(db: Database, click: Click): void {
  const { link } = click;
  prepared(db, INSERT_CLICK).run(
    click.clickId,
    link.projectId,
    link.linkId,
    click.ts,
    click.visitorId,
    click.referrerHost,
    click.agent.browser,
    click.agent.os,
    click.agent.device,
    click.country,
  );
  recordEvent(db, {
    projectId: link.projectId,
    name: "link_clicked",
    ts: click.ts,
    visitorId: click.visitorId,
    props: { clickId: click.clickId, ...(click.referrerHost ? { referrer: click.referrerHost } : {}) },
    context: link.context,
  });
  linkCounters.add(db, `${link.linkId}\u0000${link.projectId}`, [link.linkId, link.projectId], [1, click.ts]);
}
