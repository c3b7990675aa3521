// A click on a tracked link: the clicks row, and the link_clicked event whose rollup also moves the link's counter.
import type { Database } from "bun:sqlite";
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
}
