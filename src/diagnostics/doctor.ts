// The attribution doctor: what Bantico's troubleshooting docs ask a founder to check, decided over
// the project's own data. Pure: the caller loads the facts (facts.ts); each finding says what to
// change and names the payments that show it.
import type { BanticoMetadata } from "../payments/metadata.ts";
import { PROVIDER_NAMES } from "../payments/guides.ts";

export type Severity = "error" | "warning" | "info";

export interface Finding {
  code: string;
  severity: Severity;
  message: string;
  paymentIds: string[];
}

export interface PaymentFact {
  id: string;
  provider: string;
  occurredAt: number;
  metadata: BanticoMetadata;
  method: string;
  mismatches: number;
  email: string | null;
}

export interface IntegrationFact {
  provider: string;
  name: string;
  connectedAt: number;
  hasCredential: boolean;
  hasWebhookSecret: boolean;
  lastEventAt: number | null;
  lastPullAt: number | null;
  signatureFailures: number;
  lastSignatureFailureAt: number | null;
  lastSignatureFailure: string | null;
}

export interface DoctorFacts {
  now: number;
  /** Sales and renewals of the last 60 days. */
  payments: PaymentFact[];
  links: Map<string, { archived: boolean }>;
  profileEmails: Set<string>;
  integrations: IntegrationFact[];
  trackerHosts: { host: string; persisted: boolean; lastSeenAt: number }[];
}

const DAY = 86_400_000;
/** Enough ids to look at; a finding's message gives the full count. */
const MAX_IDS = 20;
const ids = (payments: PaymentFact[]) => payments.slice(0, MAX_IDS).map((p) => p.id);
const percent = (part: number, whole: number) => Math.round((100 * part) / whole);
/** "1 payment names", "3 payments name". */
const counted = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
const providerName = (provider: string) => PROVIDER_NAMES[provider as keyof typeof PROVIDER_NAMES] ?? "API (POST /payments)";

function hasBanticoMetadata(m: BanticoMetadata): boolean {
  return Object.values(m).some((value) => value !== null);
}

export function diagnose(facts: DoctorFacts): Finding[] {
  return [
    ...metadataShare(facts),
    ...metadataLinks(facts),
    ...emailsWithoutProfile(facts),
    ...integrationHealth(facts),
    ...trackerSeen(facts),
  ];
}

/** Per provider, this 30 days against the 30 before: a falling share usually means a checkout lost its metadata. */
function metadataShare(facts: DoctorFacts): Finding[] {
  const findings: Finding[] = [];
  const providers = [...new Set(facts.payments.map((p) => p.provider))].sort();
  for (const provider of providers) {
    const recent = facts.payments.filter((p) => p.provider === provider && p.occurredAt >= facts.now - 30 * DAY);
    const before = facts.payments.filter((p) => p.provider === provider && p.occurredAt < facts.now - 30 * DAY);
    if (recent.length === 0) continue;
    const without = recent.filter((p) => !hasBanticoMetadata(p.metadata));
    const share = percent(recent.length - without.length, recent.length);
    const earlier = before.length ? percent(before.filter((p) => hasBanticoMetadata(p.metadata)).length, before.length) : null;
    const trend = earlier === null ? "" : ` (${earlier}% the 30 days before)`;
    const low = share < 50 || (earlier !== null && earlier - share >= 20);
    findings.push({
      code: "metadata_share",
      severity: low ? "warning" : "info",
      message:
        `${providerName(provider)}: ${recent.length - without.length} of ${counted(recent.length, "payment", "payments")} in the last 30 days (${share}%) carry Bantico metadata${trend}.` +
        (low
          ? " Put bantico.context() into the checkout's metadata on your server, or keep the tracker on pages with no-code checkout links; payments without it are attributed by email only."
          : ""),
      paymentIds: ids(without),
    });
  }
  return findings;
}

function metadataLinks(facts: DoctorFacts): Finding[] {
  const unknown = facts.payments.filter((p) => p.metadata.linkId && !facts.links.has(p.metadata.linkId));
  const archived = facts.payments.filter((p) => p.metadata.linkId && facts.links.get(p.metadata.linkId)?.archived);
  const contradicting = facts.payments.filter((p) => p.mismatches > 0);
  const findings: Finding[] = [];
  if (unknown.length) {
    const names = [...new Set(unknown.map((p) => p.metadata.linkId))].slice(0, 5).join(", ");
    findings.push({
      code: "unknown_link",
      severity: "error",
      message: `${counted(unknown.length, "payment names a link", "payments name links")} this project does not have (${names}): the checkout sends a link id from another project or a typo; send the linkId that bantico.context() returns.`,
      paymentIds: ids(unknown),
    });
  }
  if (archived.length) {
    findings.push({
      code: "archived_link",
      severity: "warning",
      message: `${counted(archived.length, "payment names an archived link", "payments name archived links")}: they still count for those links; unarchive them or stop sending their ids.`,
      paymentIds: ids(archived),
    });
  }
  if (contradicting.length) {
    findings.push({
      code: "metadata_contradicts_link",
      severity: "warning",
      message: `${counted(contradicting.length, "payment carries", "payments carry")} campaign, source, medium, content or lead values that contradict their link; the link's values were kept. Send only linkId, or the link's own values.`,
      paymentIds: ids(contradicting),
    });
  }
  return findings;
}

function emailsWithoutProfile(facts: DoctorFacts): Finding[] {
  const orphans = facts.payments.filter((p) => p.method === "unattributed" && p.email && !facts.profileEmails.has(p.email));
  if (!orphans.length) return [];
  return [
    {
      code: "email_without_profile",
      severity: "warning",
      message: `${counted(orphans.length, "unattributed payment has a customer email", "unattributed payments have customer emails")} that no visitor identified with: call bantico.identify({ id, email }) when people sign up, with the email they pay with.`,
      paymentIds: ids(orphans),
    },
  ];
}

function integrationHealth(facts: DoctorFacts): Finding[] {
  const findings: Finding[] = [];
  for (const i of facts.integrations) {
    if (i.signatureFailures > 0 && i.lastSignatureFailureAt !== null && i.lastSignatureFailureAt >= facts.now - 7 * DAY) {
      const why = i.lastSignatureFailure === "stale_timestamp" ? "timestamps far from this server's clock: check the server's time (NTP)" : `a secret that does not match: copy the endpoint's signing secret from ${i.name} into Bantico again`;
      findings.push({
        code: "webhook_signature_failures",
        severity: "error",
        message: `${i.name} deliveries were refused for their signature (${i.signatureFailures} so far, the last ${new Date(i.lastSignatureFailureAt).toISOString()}), with ${why}. Refused deliveries store nothing.`,
        paymentIds: [],
      });
    }
    const quietSince = i.lastEventAt ?? i.connectedAt;
    if (i.hasWebhookSecret && facts.now - quietSince > 7 * DAY) {
      findings.push({
        code: "provider_silent",
        severity: "warning",
        message: `${i.name} is connected but no webhook has arrived ${i.lastEventAt ? "for 7 days" : "since it was connected"}: check the endpoint URL and its events in ${i.name} (listed in Settings → Integrations).`,
        paymentIds: [],
      });
    }
    if (i.hasCredential && facts.now - (i.lastPullAt ?? i.connectedAt) > DAY) {
      findings.push({
        code: "pull_stalled",
        severity: "warning",
        message: `${i.name}'s API has not been read for over a day: the key may be revoked; see its status in Settings → Integrations.`,
        paymentIds: [],
      });
    }
  }
  return findings;
}

function trackerSeen(facts: DoctorFacts): Finding[] {
  const recent = facts.trackerHosts.filter((h) => h.lastSeenAt >= facts.now - 30 * DAY);
  if (!recent.length) {
    return [{ code: "tracker_not_seen", severity: "warning", message: "The tracker has not reported from any site in 30 days: add the snippet from Settings to every page, checkout pages included.", paymentIds: [] }];
  }
  const hosts = [...new Set(recent.map((h) => h.host))].sort();
  const findings: Finding[] = [{ code: "tracker_hosts", severity: "info", message: `The tracker ran on ${hosts.join(", ")} in the last 30 days.`, paymentIds: [] }];
  for (const host of hosts) {
    const modes = recent.filter((h) => h.host === host);
    if (modes.some((h) => h.persisted)) {
      if (modes.some((h) => !h.persisted)) {
        findings.push({
          code: "partly_cookieless",
          severity: "info",
          message: `Some visitors on ${host} are cookieless: they send Global Privacy Control or Do Not Track (always respected), or some pages lack data-persist.`,
          paymentIds: [],
        });
      }
      continue;
    }
    findings.push({
      code: "cookieless",
      severity: "info",
      message: `The tracker on ${host} runs without data-persist: visitor ids change daily, so a payment made on another day than the visit is matched by metadata or email only. Add data-persist if your consent policy allows first-party cookies.`,
      paymentIds: [],
    });
  }
  return findings;
}
