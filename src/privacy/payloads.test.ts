// What a deletion request leaves of a paying person in raw Stripe and Polar payloads: their shape,
// ids and amounts for debugging, none of the person's details.
import { describe, expect, test } from "bun:test";
import { erasePersonFromExplanation, erasePersonFromPayload, erasePersonFromText } from "./payloads.ts";

const EMAIL = "ada@example.com";
const ADA = { emails: [EMAIL], names: [] };
const erase = (payload: unknown) => JSON.parse(erasePersonFromPayload(JSON.stringify(payload), ADA));

describe("erasing a person from raw provider payloads", () => {
  test("a Stripe checkout session loses the customer's details, and keeps the product, amounts and ids", () => {
    const erased = erase({
      id: "evt_1",
      type: "checkout.session.completed",
      data: {
        object: {
          id: "cs_test_1",
          object: "checkout.session",
          amount_total: 4900,
          currency: "eur",
          customer: "cus_123",
          customer_email: "Ada@Example.com",
          customer_details: {
            email: "Ada@Example.com",
            name: "Ada Lovelace",
            phone: "+44 20 7946 0000",
            address: { city: "London", country: "GB", line1: "12 St James's Square", line2: null, postal_code: "SW1Y 4JH", state: null },
            tax_exempt: "none",
            tax_ids: [{ type: "gb_vat", value: "GB123456789" }],
          },
          shipping_details: { name: "Ada Lovelace", address: { city: "London", country: "GB" } },
          line_items: { data: [{ description: "Pro plan", price: { nickname: "Pro monthly", product: { name: "Pro" } } }] },
          metadata: { bt_lead: "lead_9", note: "invoice to ada@example.com please" },
        },
      },
    });
    const session = erased.data.object;
    expect(session.customer_email).toBe("[erased]");
    expect(session.customer_details).toEqual({
      email: "[erased]",
      name: "[erased]",
      phone: "[erased]",
      address: { city: "[erased]", country: "[erased]", line1: "[erased]", line2: null, postal_code: "[erased]", state: null },
      tax_exempt: "none",
      tax_ids: [{ type: "[erased]", value: "[erased]" }],
    });
    expect(session.shipping_details).toEqual({ name: "[erased]", address: { city: "[erased]", country: "[erased]" } });
    expect(session.metadata).toEqual({ bt_lead: "lead_9", note: "invoice to [erased] please" });
    expect(session.line_items.data[0]).toEqual({ description: "Pro plan", price: { nickname: "Pro monthly", product: { name: "Pro" } } });
    expect([session.id, session.customer, session.amount_total, session.currency]).toEqual(["cs_test_1", "cus_123", 4900, "eur"]);
    expect(JSON.stringify(erased)).not.toMatch(/Ada|Lovelace|London|7946|GB123/);
  });

  test("a Stripe invoice and charge lose the customer_* fields and billing details", () => {
    const erased = erase({
      invoice: { id: "in_1", customer_name: "Ada Lovelace", customer_email: EMAIL, customer_phone: "+44 1", customer_address: { city: "London" }, lines: { data: [{ description: "1 × Pro (at €49.00 / month)" }] } },
      charge: { id: "ch_1", receipt_email: EMAIL, billing_details: { email: EMAIL, name: "Ada Lovelace", phone: null, address: { city: "London" } } },
    });
    expect(erased.invoice).toEqual({
      id: "in_1",
      customer_name: "[erased]",
      customer_email: "[erased]",
      customer_phone: "[erased]",
      customer_address: { city: "[erased]" },
      lines: { data: [{ description: "1 × Pro (at €49.00 / month)" }] },
    });
    expect(erased.charge).toEqual({ id: "ch_1", receipt_email: "[erased]", billing_details: { email: "[erased]", name: "[erased]", phone: null, address: { city: "[erased]" } } });
  });

  test("a Polar order loses its billing name and address and the customer's name and email", () => {
    const erased = erase({
      type: "order.paid",
      data: {
        id: "order_1",
        total_amount: 9720,
        billing_name: "Ada Lovelace",
        billing_address: { country: "GB", city: "London" },
        customer: { id: "cust_1", email: EMAIL, name: "Ada Lovelace", external_id: "user_1", billing_address: { country: "GB" } },
        product: { id: "prod_1", name: "Pro" },
      },
    });
    expect(erased.data).toEqual({
      id: "order_1",
      total_amount: 9720,
      billing_name: "[erased]",
      billing_address: { country: "[erased]", city: "[erased]" },
      customer: { id: "cust_1", email: "[erased]", name: "[erased]", external_id: "user_1", billing_address: { country: "[erased]" } },
      product: { id: "prod_1", name: "Pro" },
    });
  });

  test("a payload that is not JSON still loses the email", () => {
    expect(erasePersonFromPayload("from=Ada@Example.com&amount=1", ADA)).toBe("from=[erased]&amount=1");
  });
});

describe("erasing a person from text and explanations", () => {
  const person = { emails: ["buyer.two@example.com"], names: ["Al", "Bea Two"] };

  test("emails in any case and names as whole words are erased; other words that contain a name stay", () => {
    expect(erasePersonFromText("Order for bea two (Buyer.Two@Example.com), Al's plan: Alpha", person)).toBe("Order for [erased] ([erased]), [erased]'s plan: Alpha");
  });

  test("an explanation loses the email and the profiles it matched, and keeps the method's trail", () => {
    const explanation = JSON.stringify([
      "The customer's email buyer.two@example.com matches profile user_v2, user_v22; the last session with context within 90 days (ses_1, visitor v_1, started 2026-11-20 10:00 UTC) came from campaign spring.",
      "2 sessions with context in the window; the first came from source user_v2.",
    ]);
    expect(JSON.parse(erasePersonFromExplanation(explanation, person, ["user_v2", "user_v22"]))).toEqual([
      "The customer's email [erased] matches profile [erased], [erased]; the last session with context within 90 days (ses_1, visitor v_1, started 2026-11-20 10:00 UTC) came from campaign spring.",
      "2 sessions with context in the window; the first came from source user_v2.",
    ]);
  });
});
