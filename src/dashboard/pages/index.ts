// The data pages (overview, links, reports, funnel, payments, profiles, live), registered by the shell.
import type { DashboardPage } from "../index.ts";
import { overviewPage } from "./overview.ts";
import { linksPages } from "./links.ts";

export const dataPages: DashboardPage[] = [overviewPage, linksPages];
