// Usage and cost: per tenant (or platform-wide), by day and by provider,
// split by key source, with the platform-paid and tenant-paid totals as the
// API gives them ("N/A" for the platform cost of a BYOK tenant under
// byok_billing skip) and a bar chart drawn here in SVG.
import { call, enc, type Tenant, type UsageReport, type UsageRow } from "../api";
import { displayName } from "../catalog";
import { fmtInt, h, replace, s } from "../dom";
import { tenantTabs } from "../ui";

const SOURCES = ["platform", "tenant", "request"] as const;

/** renderUsage draws one tenant's usage, or (tenant "") the platform's. */
export async function renderUsage(view: HTMLElement, tenant: string): Promise<void> {
  const t = tenant ? await call<Tenant>("GET", `/tenants/${enc(tenant)}`) : null;
  const base = t ? `/tenants/${enc(t.id)}/usage` : "/usage";
  const [byDay, byProvider] = await Promise.all([
    call<UsageReport>("GET", `${base}?group_by=day,key_source`),
    call<UsageReport>("GET", `${base}?group_by=provider,key_source`),
  ]);
  const rep = byDay;
  const money = (v: string) => (v === "N/A" ? "N/A" : `$${v}`);
  const totals = (title: string, id: string, tot: UsageReport["platform_paid"], note: string) =>
    h(
      "div",
      { class: "card total", id },
      h("h2", {}, title),
      h("p", { class: "big", "data-role": "cost" }, money(tot.cost_usd)),
      h("p", {}, `${fmtInt(tot.requests)} ${tot.requests === 1 ? "call" : "calls"} · ${fmtInt(tot.input_tokens)} tokens in · ${fmtInt(tot.output_tokens)} tokens out`),
      h("p", { class: "muted" }, note),
    );
  const budget = rep.budget;
  replace(
    view,
    h("h1", {}, t ? `${t.name}: usage and cost` : "Usage and cost, all tenants"),
    t ? tenantTabs(t.id, "usage") : null,
    h("p", { class: "muted" }, `From ${rep.from.slice(0, 10)} to ${rep.to.slice(0, 10)}` + (rep.mode ? ` · mode ${rep.mode}` : "") + (rep.byok_billing ? ` · BYOK billing ${rep.byok_billing}` : "")),
    h(
      "div",
      { class: "totals" },
      totals("Platform-paid", "platform-paid", rep.platform_paid, rep.platform_paid.cost_usd === "N/A" ? "BYOK: the platform pays nothing for this tenant." : "Counts toward the platform budget."),
      totals("Tenant-paid", "tenant-paid", rep.tenant_paid, "Calls with the tenant's own or per-request keys, billed by the provider."),
      budget
        ? h(
            "div",
            { class: "card total", id: "budget" },
            h("h2", {}, "Budget"),
            h("p", {}, `daily ${budget.daily_usd ? "$" + budget.daily_usd : "none"} · monthly ${budget.monthly_usd ? "$" + budget.monthly_usd : "none"}`),
            h("p", { class: "muted" }, `${budget.hard ? "hard" : "soft"} limit, applies to ${budget.applies_to}`),
          )
        : null,
    ),
    h("h2", {}, "Tokens per day by key source"),
    chart(rep),
    h("h2", {}, "By provider"),
    providerTable(byProvider.rows),
  );
}

function chart(rep: UsageReport): Element {
  const days: string[] = [];
  const from = new Date(rep.from.slice(0, 10) + "T00:00:00Z");
  const to = new Date(rep.to);
  for (let d = from; d < to && days.length < 92; d = new Date(d.getTime() + 86400000)) days.push(d.toISOString().slice(0, 10));
  const per = new Map<string, Record<string, number>>();
  for (const r of rep.rows) {
    if (!r.day) continue;
    const m = per.get(r.day) ?? {};
    m[r.key_source ?? "platform"] = (m[r.key_source ?? "platform"] ?? 0) + r.input_tokens + r.output_tokens;
    per.set(r.day, m);
  }
  const max = Math.max(1, ...[...per.values()].map((m) => Object.values(m).reduce((a, b) => a + b, 0)));
  const W = 720, H = 200, pad = 40;
  const bw = (W - pad) / Math.max(days.length, 1);
  const bars: SVGElement[] = [];
  days.forEach((day, i) => {
    let y = H - pad;
    for (const src of SOURCES) {
      const v = per.get(day)?.[src] ?? 0;
      if (!v) continue;
      const bh = Math.max(1, ((H - pad - 10) * v) / max);
      y -= bh;
      bars.push(s("rect", { x: (pad + i * bw + 1).toFixed(1), y: y.toFixed(1), width: Math.max(1, bw - 2).toFixed(1), height: bh.toFixed(1), class: "bar-" + src, "data-day": day }, s("title", {}, `${day} ${src}: ${fmtInt(v)} tokens`)));
    }
  });
  const labels = [0, Math.floor(days.length / 2), days.length - 1]
    .filter((i, k, a) => i >= 0 && a.indexOf(i) === k)
    .map((i) => s("text", { x: (pad + i * bw + bw / 2).toFixed(1), y: H - 10, class: "axis", "text-anchor": i === 0 ? "start" : i === days.length - 1 ? "end" : "middle" }, days[i]?.slice(5) ?? ""));
  const legend = SOURCES.map((src, i) => s("g", {}, s("rect", { x: pad + i * 110, y: 2, width: 10, height: 10, class: "bar-" + src }), s("text", { x: pad + i * 110 + 14, y: 11, class: "axis" }, src + "-paid")));
  return s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", id: "usage-chart", role: "img", "aria-label": "Tokens per day by key source" },
    s("line", { x1: pad, y1: H - pad, x2: W, y2: H - pad, class: "axis-line" }),
    s("text", { x: 0, y: 24, class: "axis" }, fmtInt(max)),
    ...legend,
    ...bars,
    ...labels,
  );
}

function providerTable(rows: UsageRow[]): HTMLElement {
  if (!rows.length) return h("p", { class: "empty" }, "No calls in this period.");
  return h(
    "table",
    { id: "usage-providers" },
    h("thead", {}, h("tr", {}, h("th", {}, "Provider"), h("th", {}, "Paid by"), h("th", {}, "Calls"), h("th", {}, "Tokens in"), h("th", {}, "Tokens out"), h("th", {}, "Cost"), h("th", {}, "Billable"), h("th", {}, "Priced"))),
    h(
      "tbody",
      {},
      ...rows.map((r) =>
        h(
          "tr",
          { "data-provider": r.provider ?? "", "data-source": r.key_source ?? "" },
          h("td", {}, displayName(r.provider ?? "")),
          h("td", {}, r.key_source ?? ""),
          h("td", {}, fmtInt(r.requests)),
          h("td", {}, fmtInt(r.input_tokens)),
          h("td", {}, fmtInt(r.output_tokens)),
          h("td", {}, `$${r.cost_usd}`),
          h("td", {}, `$${r.billable_cost_usd}`),
          pricedCell(r),
        ),
      ),
    ),
  );
}

/** pricedCell marks a row some of whose calls were not at their model's price. */
function pricedCell(r: UsageRow): HTMLElement {
  if (r.unpriced_requests > 0)
    return h("td", { class: "priced-unpriced", "data-priced": "unpriced", title: "The provider has no price: these calls count $0." }, `unpriced (${fmtInt(r.unpriced_requests)})`);
  if (r.estimated_requests > 0)
    return h("td", { class: "priced-estimated", "data-priced": "estimated", title: "The model has no price: costed at the provider's highest price." }, `estimated (${fmtInt(r.estimated_requests)})`);
  return h("td", { "data-priced": "priced" }, "");
}
