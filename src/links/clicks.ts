// A click on a tracked link: the clicks row, and the link_clicked event whose rollup also moves the link's counter.
import type { JobSteps, JobTx } from "../db/storage/jobs.ts";
import { recordEvent } from "../tracking/events.ts";
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

/** A write job, either engine. */
export function* recordClick(tx: JobTx, click: Click): JobSteps<void> {
  const { link } = click;
  yield* tx.run(INSERT_CLICK, [
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
  ]);
  yield* recordEvent(tx, {
    projectId: link.projectId,
    name: "link_clicked",
    ts: click.ts,
    visitorId: click.visitorId,
    props: { clickId: click.clickId, ...(click.referrerHost ? { referrer: click.referrerHost } : {}) },
    context: link.context,
  });
}
