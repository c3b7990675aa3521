// The attribution engine alone: plain data in, method, context and explanation out.
import { describe, expect, test } from "bun:test";
import { attribute, EMPTY_CONTEXT, type AttributionCandidates, type AttributionContext, type PaymentFacts, type PriorAttribution, type Touch } from "./engine.ts";
import { readBanticoMetadata } from "../payments/metadata.ts";

const DAY = 86_400_000;
const PAID_AT = Date.UTC(2026, 10, 20, 12);

function facts(overrides: Partial<PaymentFacts> & { meta?: Record<string, string> } = {}): PaymentFacts {
  const { meta, ...rest } = overrides;
  return { kind: "sale", occurredAt: PAID_AT, metadata: readBanticoMetadata(meta ?? {}), email: null, lookbackDays: 90, orderLabel: null, ...rest };
}

const none: AttributionCandidates = { link: null, visitorTouches: [], profiles: [], orderPrior: null, customerPrior: null };

function ctx(fields: Partial<AttributionContext>): AttributionContext {
  return { ...EMPTY_CONTEXT, ...fields };
}

function touch(sessionId: string, daysBefore: number, context: Partial<AttributionContext>, visitorId = "v1"): Touch {
  return { sessionId, visitorId, startedAt: PAID_AT - daysBefore * DAY, context: ctx(context) };
}

const prior: PriorAttribution = {
  paymentId: "pay_first",
  kind: "sale",
  method: "metadata_link",
  context: ctx({ linkId: "lnk_launch", campaignId: "launch" }),
  firstContext: ctx({ linkId: "lnk_launch", campaignId: "launch" }),
  visitorId: "v1",
  profileId: null,
  occurredAt: PAID_AT - 30 * DAY,
};

describe("attribution engine", () => {
  test("metadata naming a link of the project credits that link, metadata filling its gaps", () => {
    const result = attribute(facts({ meta: { linkId: "lnk_1", content: "hero" } }), {
      ...none,
      link: { linkId: "lnk_1", title: "Tweet", context: ctx({ campaignId: "spring", source: "twitter" }) },
    });
    expect(result.method).toBe("metadata_link");
    expect(result.context).toEqual(ctx({ linkId: "lnk_1", campaignId: "spring", source: "twitter", content: "hero" }));
    expect(result.explanation.join(" ")).toContain("names link lnk_1");
    expect(result.mismatches).toEqual([]);
  });

  test("metadata that contradicts the link keeps the link's value and shows the mismatch", () => {
    const result = attribute(facts({ meta: { link_id: "lnk_1", bantico_source: "newsletter" } }), {
      ...none,
      link: { linkId: "lnk_1", title: "", context: ctx({ source: "twitter" }) },
    });
    expect(result.method).toBe("metadata_link");
    expect(result.context.source).toBe("twitter");
    expect(result.mismatches).toEqual([{ field: "source", link: "twitter", metadata: "newsletter" }]);
    expect(result.explanation.join(" ")).toContain("Mismatch");
  });

  test("an unknown link id falls through to the metadata context", () => {
    const result = attribute(facts({ meta: { linkId: "lnk_elsewhere", campaign_id: "black_friday", source: "" } }), none);
    expect(result.method).toBe("metadata_context");
    expect(result.context).toEqual(ctx({ campaignId: "black_friday" }));
    expect(result.explanation[0]).toContain("not a link of this project");
  });

  test("a visitor id credits the last session with context within the lookback window", () => {
    const touches = [touch("s_old", 120, { source: "ancient" }), touch("s_first", 40, { linkId: "lnk_a" }), touch("s_plain", 10, {}), touch("s_last", 5, { campaignId: "retarget" })];
    const result = attribute(facts({ meta: { visitorId: "v1" } }), { ...none, visitorTouches: touches });
    expect(result.method).toBe("session");
    expect(result.context).toEqual(ctx({ campaignId: "retarget" }));
    expect(result.firstContext).toEqual(ctx({ linkId: "lnk_a" }));
    expect(result.sessionId).toBe("s_last");
  });

  test("sessions outside the lookback window or after the payment do not count", () => {
    const touches = [touch("s_old", 120, { source: "ancient" }), { ...touch("s_after", 0, { source: "later" }), startedAt: PAID_AT + 10 * 60_000 }];
    const result = attribute(facts({ meta: { visitorId: "v1" }, email: "a@b.co" }), { ...none, visitorTouches: touches });
    expect(result.method).toBe("unattributed");
  });

  test("an email matching an identified profile credits its visitors' last touch", () => {
    const result = attribute(facts({ email: "ada@example.com" }), {
      ...none,
      profiles: [{ profileId: "user_1", touches: [touch("s1", 20, { source: "google" }, "v_phone"), touch("s2", 3, { linkId: "lnk_b" }, "v_laptop")] }],
    });
    expect(result.method).toBe("identify_email");
    expect(result.context.linkId).toBe("lnk_b");
    expect(result.firstContext.source).toBe("google");
    expect(result.visitorId).toBe("v_laptop");
    expect(result.profileId).toBe("user_1");
  });

  test("a renewal without metadata inherits the subscription's first payment", () => {
    const result = attribute(facts({ kind: "renewal", email: "ada@example.com", orderLabel: "subscription sub_1" }), {
      ...none,
      orderPrior: prior,
      profiles: [{ profileId: "user_1", touches: [touch("s9", 1, { source: "later_touch" })] }],
    });
    expect(result.method).toBe("customer");
    expect(result.context.linkId).toBe("lnk_launch");
    expect(result.explanation[0]).toContain("pay_first");
  });

  test("a refund reduces what its sale was credited to, whatever touched the customer since", () => {
    const result = attribute(facts({ kind: "refund", meta: { source: "other" }, orderLabel: "charge ch_1" }), { ...none, orderPrior: prior });
    expect(result.method).toBe("customer");
    expect(result.context.campaignId).toBe("launch");
  });

  test("a refund of an unknown sale falls back to the same customer's earlier payment", () => {
    const result = attribute(facts({ kind: "refund" }), { ...none, customerPrior: prior });
    expect(result.method).toBe("customer");
    expect(result.explanation[0]).toContain("Same customer");
  });

  test("a sale never inherits from the customer's earlier payment", () => {
    const result = attribute(facts({ kind: "sale" }), { ...none, customerPrior: prior });
    expect(result.method).toBe("unattributed");
    expect(result.explanation.at(-1)).toContain("unattributed");
  });

  test("metadata keys are read in camelCase, snake_case and with a bantico_ prefix; empty strings are absent", () => {
    expect(readBanticoMetadata({ linkId: "", link_id: "a", bantico_campaign_id: "c", banticoLeadId: "l", visitorId: " v " })).toEqual({
      linkId: "a",
      campaignId: "c",
      source: null,
      medium: null,
      content: null,
      leadId: "l",
      visitorId: "v",
      sessionId: null,
    });
  });
});
