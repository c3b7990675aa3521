// The data pages (overview, links, reports, funnel, payments, profiles, live, attribution doctor), registered by the shell.
import type { DashboardPage } from "../index.ts";
import { overviewPage } from "./overview.ts";
import { linksPages } from "./links.ts";
import { paymentsPages } from "./payments.ts";
import { reportPages } from "./reports.ts";
import { funnelPage } from "./funnel.ts";
import { trafficPages } from "./traffic.ts";
import { journeyPages } from "./journeys.ts";
import { exportPages } from "./exports.ts";
import { diagnosticsPage } from "./diagnostics.ts";
import { mrrPages } from "./mrr.ts";

export const dataPages: DashboardPage[] = [overviewPage, linksPages, reportPages, trafficPages, funnelPage, paymentsPages, mrrPages, journeyPages, exportPages, diagnosticsPage];
