// The data pages (overview, links, reports, funnel, payments, profiles, live), registered by the shell.
import type { DashboardPage } from "../index.ts";

export const dataPages: DashboardPage[] = [];
