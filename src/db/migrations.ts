// The migrations embedded in the executable. Bun has no import.meta.glob: add each new file here.
import type { Migration } from "./migrate.ts";
import core from "../../migrations/001_core.sql" with { type: "text" };
import journeys from "../../migrations/002_journeys.sql" with { type: "text" };
import tracking from "../../migrations/003_tracking.sql" with { type: "text" };
import payments from "../../migrations/004_payments.sql" with { type: "text" };
import dashboard from "../../migrations/005_dashboard.sql" with { type: "text" };
import clicksWithoutLinkIndex from "../../migrations/006_clicks_without_link_index.sql" with { type: "text" };
import contextPeriodsWithoutTriggers from "../../migrations/007_context_periods_without_triggers.sql" with { type: "text" };
import signupsStartedRollup from "../../migrations/008_signups_started_rollup.sql" with { type: "text" };
import counterBacklog from "../../migrations/009_counter_backlog.sql" with { type: "text" };
import clicksWithoutProjectIndex from "../../migrations/010_clicks_without_project_index.sql" with { type: "text" };
import integrationWebhookEndpoint from "../../migrations/011_integration_webhook_endpoint.sql" with { type: "text" };
import peopleFromRawEvents from "../../migrations/012_people_from_raw_events.sql" with { type: "text" };
import signedIdentify from "../../migrations/016_signed_identify.sql" with { type: "text" };
import setupToken from "../../migrations/018_setup_token.sql" with { type: "text" };
import projectMembers from "../../migrations/019_project_members.sql" with { type: "text" };
import moreProviders from "../../migrations/023_more_providers.sql" with { type: "text" };
import attributionDoctor from "../../migrations/024_attribution_doctor.sql" with { type: "text" };
import { replaceInTableDefinition } from "./widen-check.ts";
import reportingCurrency from "../../migrations/020_reporting_currency.sql" with { type: "text" };
import subscriptions from "../../migrations/021_subscriptions.sql" with { type: "text" };
import fastReconversion from "../../migrations/025_fast_reconversion.sql" with { type: "text" };
import reconversionSteps from "../../migrations/026_reconversion_steps.sql" with { type: "text" };
import loginFailures from "../../migrations/027_login_failures.sql" with { type: "text" };
import jobLeases from "../../migrations/028_job_leases.sql" with { type: "text" };

export const migrations: readonly Migration[] = [
  { version: 1, name: "001_core.sql", sql: core },
  { version: 2, name: "002_journeys.sql", sql: journeys },
  { version: 3, name: "003_tracking.sql", sql: tracking },
  { version: 4, name: "004_payments.sql", sql: payments },
  { version: 5, name: "005_dashboard.sql", sql: dashboard },
  { version: 6, name: "006_clicks_without_link_index.sql", sql: clicksWithoutLinkIndex },
  { version: 7, name: "007_context_periods_without_triggers.sql", sql: contextPeriodsWithoutTriggers },
  { version: 8, name: "008_signups_started_rollup.sql", sql: signupsStartedRollup },
  { version: 9, name: "009_counter_backlog.sql", sql: counterBacklog },
  { version: 10, name: "010_clicks_without_project_index.sql", sql: clicksWithoutProjectIndex },
  { version: 11, name: "011_integration_webhook_endpoint.sql", sql: integrationWebhookEndpoint },
  { version: 12, name: "012_people_from_raw_events.sql", sql: peopleFromRawEvents },
  { version: 16, name: "016_signed_identify.sql", sql: signedIdentify },
  { version: 18, name: "018_setup_token.sql", sql: setupToken },
  { version: 19, name: "019_project_members.sql", sql: projectMembers },
  { version: 20, name: "020_reporting_currency.sql", sql: reportingCurrency },
  { version: 21, name: "021_subscriptions.sql", sql: subscriptions },
  {
    version: 23,
    name: "023_more_providers.sql",
    sql: moreProviders,
    after(db) {
      replaceInTableDefinition(db, "payments", "CHECK (provider IN ('stripe', 'polar', 'api'))", "CHECK (provider IN ('stripe', 'polar', 'api', 'dodo', 'lemonsqueezy', 'paddle', 'creem'))");
      replaceInTableDefinition(db, "integrations", "CHECK (provider IN ('stripe', 'polar'))", "CHECK (provider IN ('stripe', 'polar', 'dodo', 'lemonsqueezy', 'paddle', 'creem'))");
    },
  },
  { version: 24, name: "024_attribution_doctor.sql", sql: attributionDoctor },
  { version: 25, name: "025_fast_reconversion.sql", sql: fastReconversion },
  { version: 26, name: "026_reconversion_steps.sql", sql: reconversionSteps },
  { version: 27, name: "027_login_failures.sql", sql: loginFailures },
  { version: 28, name: "028_job_leases.sql", sql: jobLeases },
];
