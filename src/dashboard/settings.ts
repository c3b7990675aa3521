// Settings routes: project settings, API keys, team, privacy deletion (integrations in integrations.ts).
import { createApiKey, listApiKeys, revokeApiKey } from "../auth/api-keys.ts";
import { projectTeam } from "../auth/access.ts";
import { revokePreviousIdentifySecret, rotateIdentifySecret, type Project } from "../projects/service.ts";
import { changeProjectSettings } from "../payments/fx/stored.ts";
import { pageResponse, redirectTo, renderPage, formString, canWrite, DashboardError, type DashboardRequest, type DashboardRouter } from "./routing.ts";
import { TIMEZONES, validateSettings, type SettingsForm } from "./project-settings.ts";
import { addTeammate, changeRole, removeTeammate, type TeamActor } from "./team.ts";
import { erasePerson, describeErasure } from "../privacy/erasure.ts";
import { integrationPages } from "./integrations.ts";
import { apiKeyRow, settingsPage, SETTINGS_SECTIONS, type IntegrationView, type RatesView, type SettingsView } from "../../views/settings.ts";
import { changeManualRates, validateManualRate } from "../payments/fx/routes.ts";
import { feedStatus, manualRates } from "../payments/fx/rates.ts";
import { readJob } from "../db/storage/jobs.ts";
import { readConversionProgress } from "../payments/fx/stored.ts";
import { unconvertedCurrencies } from "../payments/fx/sums.ts";
import type { Flash } from "../../views/layout.ts";

/** Supplies the integrations part of the settings page; null while payments are not built in. */
export type IntegrationsSource = ((req: DashboardRequest) => Promise<IntegrationView[]>) | null;

function projectValues(project: Project): Record<keyof SettingsForm | "verifiedEmailAttributionOnly", string> {
  return {
    name: project.name,
    allowedHostnames: project.allowedHostnames.join("\n"),
    currency: project.currency,
    timezone: project.timezone,
    lookbackDays: String(project.lookbackDays),
    pricingPathPattern: project.pricingPathPattern,
    verifiedEmailAttributionOnly: project.verifiedEmailAttributionOnly ? "on" : "",
    countRenewals: project.countRenewals ? "on" : "",
  };
}

const FLASHES: Record<string, string> = {
  project: "Settings saved.",
  rate: "Rate saved: payments in this currency are being converted.",
  rate_removed: "Manual rate removed.",
  revoked: "API key revoked.",
  teammate: "Teammate added.",
  role: "Role changed.",
  removed: "Teammate removed.",
  connected: "Integration saved.",
  disconnected: "Integration disconnected.",
  identify_rotated: "New identify secret created: put it on your servers; the previous one stays valid for 24 hours.",
  identify_previous_revoked: "The previous identify secret no longer verifies.",
  disconnected_endpoint_deleted: "Integration disconnected, and the webhook endpoint Bantico had created was deleted.",
  disconnected_endpoint_left: "Integration disconnected, but the webhook endpoint Bantico had created could not be deleted: delete it in the provider's dashboard.",
};

/** When the secret a rotation replaced stops verifying, while that is still ahead. */
function liveGrace(project: Project, now: number): number | null {
  const previous = project.previousIdentifySecret;
  return previous && previous.validUntil > now ? previous.validUntil : null;
}

async function ratesView(req: DashboardRequest, values: Record<string, string> = {}, errors: RatesView["errors"] = {}): Promise<RatesView> {
  const projectId = req.project.id;
  const { progress, feed, manual, unconverted } = await readJob(req.ctx.storage, function* (tx) {
    return {
      progress: yield* readConversionProgress(tx, projectId),
      feed: yield* feedStatus(tx),
      manual: yield* manualRates(tx, projectId),
      unconverted: yield* unconvertedCurrencies(tx, projectId),
    };
  });
  return {
    reportingCurrency: req.project.currency,
    feedUrl: req.ctx.config.fxUrl,
    feed,
    manual,
    unconverted,
    progress: progress.running ? progress : null,
    values,
    errors,
  };
}

export function settingsPages(integrations: IntegrationsSource) {
  async function view(req: DashboardRequest, overrides: Partial<SettingsView> = {}): Promise<SettingsView> {
    const storage = req.ctx.storage;
    return {
      projectId: req.project.id,
      token: req.project.token,
      baseUrl: req.baseUrl,
      csrfToken: req.session.csrfToken,
      timezone: req.project.timezone,
      canWrite: canWrite(req.user),
      isOwner: req.user.role === "owner",
      currentUserId: req.user.id,
      project: { values: projectValues(req.project), errors: {} },
      timezones: TIMEZONES,
      integrations: integrations ? await integrations(req) : null,
      integrationErrors: {},
      apiKeys: await listApiKeys(storage, req.project.id),
      apiKeyErrors: {},
      newApiKey: null,
      team: await projectTeam(storage, req.project.id),
      teamValues: {},
      teamErrors: {},
      privacyValue: "",
      privacyErrors: {},
      identify: { secret: req.project.identifySecret, previousValidUntil: liveGrace(req.project, req.ctx.now()) },
      ...overrides,
      rates: overrides.rates ?? (await ratesView(req)),
    };
  }

  /** The settings page a request is on: its path's first part after /settings, answered forms included. */
  function sectionOf(req: DashboardRequest): (typeof SETTINGS_SECTIONS)[number] {
    const part = req.url.pathname.split("/settings")[1]?.split("/")[1] ?? "";
    const id = part === "identify-secret" ? "tracker" : part;
    return SETTINGS_SECTIONS.find((s) => s.id === id) ?? SETTINGS_SECTIONS[0];
  }

  async function page(req: DashboardRequest, overrides: Partial<SettingsView> = {}, flash: Flash | null = null, status = 200): Promise<Response> {
    const saved = req.query.get("saved");
    const message = flash ?? (saved && FLASHES[saved] ? { kind: "ok" as const, text: FLASHES[saved]! } : null);
    const section = sectionOf(req);
    const title = section.id === "project" ? "Settings" : `Settings: ${section.label}`;
    return pageResponse(renderPage(req, { title, body: settingsPage(await view(req, overrides), section.id), flash: message }), status);
  }

  const actor = (req: DashboardRequest): TeamActor => ({ userId: req.user.id, projectId: req.project.id, isOwner: req.user.role === "owner" });
  const back = (req: DashboardRequest, saved: string, anchor: string) => redirectTo(req, `/dashboard/${req.project.id}/settings${sectionOf(req).path}?saved=${saved}#${anchor}`);

  return (router: DashboardRouter) => {
    if (integrations) integrationPages((req, errors) => page(req, { integrationErrors: errors }, null, 422))(router);
    router
      .get("/settings", (req) => page(req))
      .get("/settings/:section", (req) => {
        if (!SETTINGS_SECTIONS.some((s) => s.id === req.params.section)) throw new DashboardError(404, "There is no such settings page.");
        return page(req);
      })
      .post("/settings/project", async (req) => {
        const form: SettingsForm = {
          name: formString(req.form, "name"),
          allowedHostnames: formString(req.form, "allowedHostnames"),
          currency: formString(req.form, "currency"),
          timezone: formString(req.form, "timezone"),
          lookbackDays: formString(req.form, "lookbackDays"),
          pricingPathPattern: formString(req.form, "pricingPathPattern"),
          countRenewals: formString(req.form, "countRenewals"),
        };
        const verifiedEmailAttributionOnly = formString(req.form, "verifiedEmailAttributionOnly");
        const { settings, errors } = validateSettings(form);
        if (Object.keys(errors).length > 0) {
          const values = { ...form, verifiedEmailAttributionOnly };
          return page(req, { project: { values, errors } }, { kind: "error", text: "Nothing was saved: check the fields marked below." }, 422);
        }
        await changeProjectSettings(req.ctx, req.project, { ...settings, verifiedEmailAttributionOnly: verifiedEmailAttributionOnly !== "" });
        return back(req, "project", "project");
      })
      .post("/settings/identify-secret/rotate", async (req) => {
        await rotateIdentifySecret(req.ctx.storage, req.project.id, req.ctx.now());
        return back(req, "identify_rotated", "identify");
      })
      .post("/settings/identify-secret/revoke-previous", async (req) => {
        await revokePreviousIdentifySecret(req.ctx.storage, req.project.id);
        return back(req, "identify_previous_revoked", "identify");
      })
      .post("/settings/rates", async (req) => {
        const values = { currency: formString(req.form, "currency"), per: formString(req.form, "per"), rate: formString(req.form, "rate"), from: formString(req.form, "from") };
        const result = validateManualRate(values);
        if ("errors" in result) return page(req, { rates: await ratesView(req, values, result.errors) }, { kind: "error", text: "The rate was not saved: check the fields marked below." }, 422);
        await changeManualRates(req.ctx, req.project.id, { put: result.rate });
        return back(req, "rate", "rates");
      })
      .post("/settings/rates/:currency/delete", async (req) => {
        if ((await changeManualRates(req.ctx, req.project.id, { delete: (req.params.currency ?? "").toUpperCase() })) === 0) {
          throw new DashboardError(404, "This project has no manual rate for this currency.");
        }
        return back(req, "rate_removed", "rates");
      })
      .post("/settings/api-keys", async (req) => {
        const name = formString(req.form, "name").trim();
        if (name.length > 100) return page(req, { apiKeyErrors: { name: "Keep the name under 100 characters." } }, null, 422);
        const created = await createApiKey(req.ctx.storage, req.project.id, name, req.ctx.now());
        // Rendered, not redirected: the key must never sit in a URL or in history.
        return page(req, { newApiKey: created.key }, { kind: "ok", text: "API key created." });
      })
      .post("/settings/api-keys/:keyId/revoke", async (req) => {
        const keyId = req.params.keyId ?? "";
        if (!(await revokeApiKey(req.ctx.storage, req.project.id, keyId, req.ctx.now()))) {
          throw new DashboardError(404, "This project has no such active API key.");
        }
        if (!req.htmx) return back(req, "revoked", "api-keys");
        const key = (await listApiKeys(req.ctx.storage, req.project.id)).find((k) => k.id === keyId)!;
        const base = `/dashboard/${req.project.id}/settings`;
        return apiKeyRow(key, { base, csrfToken: req.session.csrfToken, canWrite: true, timezone: req.project.timezone });
      })
      // Admins of this project add, change and remove its members; only owners touch people on every project.
      .post("/settings/team", async (req) => {
        const values = { email: formString(req.form, "email").trim(), role: formString(req.form, "role"), scope: formString(req.form, "scope") || "project" };
        const errors = await addTeammate(req.ctx.storage, actor(req), { ...values, password: formString(req.form, "password") }, req.ctx.now());
        if (Object.keys(errors).length > 0) return page(req, { teamValues: values, teamErrors: errors }, null, 422);
        return back(req, "teammate", "team");
      })
      .post("/settings/team/:userId/role", async (req) => {
        const problem = await changeRole(req.ctx.storage, actor(req), req.params.userId ?? "", formString(req.form, "role"));
        if (problem) return page(req, {}, { kind: "error", text: problem }, 409);
        return back(req, "role", "team");
      })
      .post("/settings/team/:userId/remove", async (req) => {
        const problem = await removeTeammate(req.ctx.storage, actor(req), req.params.userId ?? "");
        if (problem) return page(req, {}, { kind: "error", text: problem }, 409);
        return back(req, "removed", "team");
      })
      .post("/settings/privacy/delete-profile", async (req) => {
        const value = formString(req.form, "profile").trim();
        if (!value) return page(req, { privacyErrors: { profile: "Enter the profile's id or email." } }, null, 422);
        const erased = await erasePerson(req.ctx, req.project.id, { profileIdOrEmail: value });
        if (!erased) {
          return page(req, { privacyValue: value, privacyErrors: { profile: "No profile, payment or lead in this project has this id or email." } }, null, 422);
        }
        return page(req, {}, { kind: "ok", text: describeErasure(erased) });
      });
  };
}
