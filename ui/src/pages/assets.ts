// Asset classes: views for the specialised-asset routes (consumer credit, commercial loans,
// CLO/CDO) and the deal waterfall, drawn from the response contracts of issues 13-15; each view
// is shown only when /openapi.json lists its route. The request is edited as JSON (a sample
// per contract is filled in); 422 problems are listed under it with their field paths.
import { ApiError, apiPaths, call } from "../api";
import { bars, heatmap, lines, scatter } from "../charts";
import { busy, fmt, h, section, table } from "../dom";

type Json = Record<string, any>;

export const ASSET_ROUTES = [
  { path: "/api/v1/specialized-assets/consumer-credit/analyze", key: "consumer", title: "Consumer credit: roll rates and vintages" },
  { path: "/api/v1/specialized-assets/commercial-loans/analyze", key: "commercial", title: "Commercial real estate: DSCR / LTV and portfolio loss" },
  { path: "/api/v1/specialized-assets/clo-cdo/analyze", key: "clo", title: "CLO / CDO: quality tests and tranches" },
  { path: "/api/v1/deals/run", key: "deal", title: "Deal waterfall: tranche paydown and OC / IC cushions" },
] as const;

type Key = (typeof ASSET_ROUTES)[number]["key"];

// ---- sample requests (the contracts of issues 13, 14 and 15) ----------------------------------
function consumerSample(): Json {
  const states = ["current", "current", "dpd30", "dpd60", "dpd90", "charged_off"];
  const cols: Json = { loan_id: [], period: [], state: [], balance: [] };
  for (let l = 0; l < 8; l++) {
    for (let p = 1; p <= 6; p++) {
      const path = l % 3 === 0 ? states[Math.min(p - 1, 5)] : l % 3 === 1 ? (p > 4 ? "prepaid" : "current") : p % 2 ? "current" : "dpd30";
      cols.loan_id.push(`C${l + 1}`);
      cols.period.push(p);
      cols.state.push(path);
      cols.balance.push(5000 - 300 * p + 100 * l);
    }
  }
  return {
    performance: { columns: cols },
    roll_rates: { method: "cohort", weight: "count" },
    pipeline: { start_balances: { current: 950000, dpd30: 30000, dpd60: 12000, dpd90: 8000 }, months: 36, amortize: true },
  };
}

const COMMERCIAL_SAMPLE: Json = {
  pool: {
    loans: [
      { loan_id: "CRE1", balance: 12000000, rate: 0.061, original_term_months: 120, amortization: "balloon", amortization_term_months: 360, property_type: "office", noi: 1150000, property_value: 17500000, state: "NY", sponsor: "A" },
      { loan_id: "CRE2", balance: 8000000, rate: 0.058, original_term_months: 120, amortization: "balloon", amortization_term_months: 360, property_type: "multifamily", noi: 820000, property_value: 13000000, state: "TX", sponsor: "B" },
      { loan_id: "CRE3", balance: 5000000, rate: 0.066, original_term_months: 60, amortization: "interest_only", property_type: "retail", noi: 380000, property_value: 6100000, state: "FL", sponsor: "C" },
      { loan_id: "CRE4", balance: 15000000, rate: 0.055, original_term_months: 120, amortization: "balloon", amortization_term_months: 300, property_type: "industrial", noi: 1600000, property_value: 24000000, state: "CA", sponsor: "A" },
    ],
  },
  portfolio_loss: { correlation: 0.15, horizon_years: 1, n_paths: 20000, seed: 7 },
};

const DEAL: Json = {
  name: "CLO 2026-1",
  tranches: [
    { name: "A", balance: 80000000, coupon: { type: "fixed", rate: 0.05 }, day_count: "30/360" },
    { name: "B", balance: 12000000, coupon: { type: "fixed", rate: 0.08 }, deferrable: true },
    { name: "E", role: "equity" },
  ],
  fees: [{ name: "trustee", rate: 0.0002, basis: "collateral_balance" }, { name: "admin", amount: 5000 }],
  tests: [
    { name: "oc_AB", type: "oc", tranches: ["A", "B"], trigger: 1.08 },
    { name: "ic_AB", type: "ic", tranches: ["A", "B"], trigger: 1.1 },
  ],
  waterfall: [
    { source: "principal", pay: "principal", tranches: ["A", "B"], mode: "sequential" },
    { source: "principal", pay: "residual", to: "E" },
    { source: "interest", pay: "fees", fees: ["trustee", "admin"] },
    { source: "interest", pay: "interest", tranches: ["A"] },
    { source: "interest", pay: "interest", tranches: ["B"] },
    { source: "interest", pay: "cure", test: "oc_AB", mode: "cure", tranches: ["A", "B"] },
    { source: "interest", pay: "residual", to: "E" },
  ],
};

function dealSample(): Json {
  const n = 24;
  return {
    deal: DEAL,
    collateral_cashflows: {
      balance: 100000000,
      interest: Array.from({ length: n }, (_, i) => Math.round(650000 * (1 - i / (n + 6)))),
      principal: Array.from({ length: n }, () => 3000000),
      losses: Array.from({ length: n }, (_, i) => (i > 5 && i < 14 ? 400000 : 0)),
    },
  };
}

function cloSample(): Json {
  const ratings = ["Ba2", "Ba3", "B1", "B2", "B3", "Caa1"];
  const industries = ["software", "healthcare", "chemicals", "retail", "media", "telecom"];
  return {
    assets: Array.from({ length: 12 }, (_, i) => ({
      asset_id: `L${i + 1}`, par: 8000000 + 250000 * i, price: 0.97 + 0.002 * i, spread: 0.033 + 0.001 * (i % 5),
      index: "SOFR", floor: 0.005, rating: ratings[i % 6], industry: industries[i % 6], obligor: `OB${i % 9}`,
      maturity_date: `20${31 + (i % 4)}-06-15`, recovery_rate: 0.45,
    })),
    deal: DEAL,
    reinvestment: { period_months: 24, price: 0.995, spread: 0.035 },
  };
}

const SAMPLES: Record<Key, () => Json> = {
  consumer: consumerSample,
  commercial: () => COMMERCIAL_SAMPLE,
  clo: cloSample,
  deal: dealSample,
};

// ---- tolerant readers of the documented shapes -----------------------------------------------
/** Rows of objects from either a list of objects or columns {field: [..]}. */
export function rowsOf(v: any): Json[] {
  if (Array.isArray(v)) return v;
  if (v && typeof v === "object") {
    if (Array.isArray(v.items)) return v.items;
    const cols = v.columns && typeof v.columns === "object" ? v.columns : v;
    const keys = Object.keys(cols).filter((k) => Array.isArray(cols[k]));
    const n = Math.max(0, ...keys.map((k) => cols[k].length));
    return Array.from({ length: n }, (_, i) => Object.fromEntries(keys.map((k) => [k, cols[k][i]])));
  }
  return [];
}

const pick = (o: Json, names: string[]): any => names.map((n) => o?.[n]).find((x) => x !== undefined);

function periodsChart(name: string, label: string, series: { name: string; data: (number | null)[] }[], yName: string): HTMLElement {
  const n = Math.max(0, ...series.map((s) => s.data.length));
  return lines(name, label, Array.from({ length: n }, (_, i) => i + 1), series, { xName: "period", yName });
}

// ---- views --------------------------------------------------------------------------------------
function consumerView(r: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const rr = r.roll_rates;
  if (rr?.matrix && rr?.states) {
    const states: string[] = rr.states;
    out.push(section(`Roll-rate matrix (${rr.method ?? "?"}, by ${rr.weight ?? "?"})`,
      heatmap("roll-rates", `Roll-rate matrix over ${states.length} states, rows from-state`, states, states, rr.matrix, { xName: "to state", yName: "from state", digits: 3, inverseY: true }),
      rr.counts ? table(["from \\ to", ...states], states.map((s, i) => [s, ...rr.counts[i].map((c: number) => fmt(c))]), "Transition counts") : null,
      rr.ci_low && rr.ci_high ? h("p", { class: "hint" }, "95% interval per cell in ci_low / ci_high of the response.") : null));
  }
  const vint = r.vintages;
  const curves = rowsOf(Array.isArray(vint) ? vint : vint?.cohorts ?? vint?.curves ?? []);
  if (curves.length) {
    const series = curves.map((c) => ({ name: String(pick(c, ["vintage", "cohort", "name"]) ?? "?"), data: (pick(c, ["cumulative_charge_off", "cumulative_charge_off_rate", "charge_off", "cumulative_loss"]) ?? []) as number[] }));
    const mob: number[] = pick(curves[0], ["months_on_book", "mob"]) ?? Array.from({ length: Math.max(...series.map((s) => s.data.length)) }, (_, i) => i + 1);
    out.push(section("Vintage curves", lines("vintages", `Cumulative charge-off by months on book for ${series.length} vintages`, mob, series, { xName: "months on book", yName: "cumulative charge-off (fraction)" })));
  }
  const pipe = r.pipeline;
  if (pipe?.balances) {
    const states = Object.keys(pipe.balances);
    out.push(section("Pipeline: balances by state",
      lines("pipeline", `Projected balance by state over ${pipe.months?.length ?? "?"} months`, pipe.months ?? pipe.balances[states[0]].map((_: number, i: number) => i + 1),
        states.map((s) => ({ name: s, data: pipe.balances[s], area: true, stack: "b" })), { xName: "month", yName: "balance" })));
  }
  return out;
}

function commercialView(r: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const loans = rowsOf(r.loans);
  if (loans.length) {
    const pts = loans.filter((l) => Number.isFinite(l.ltv) && Number.isFinite(l.dscr)).map((l) => [l.ltv, l.dscr] as [number, number]);
    out.push(section("DSCR against LTV (per loan)",
      scatter("dscr-ltv", `DSCR against LTV for ${pts.length} loans`, [{ name: "loans", data: pts }], { xName: "LTV", yName: "DSCR", markX: [0.8, 1.0], markY: [1.0, 1.25] }),
      table(["Loan", "DSCR", "LTV", "Debt yield"], loans.map((l) => [String(l.loan_id ?? ""), fmt(l.dscr), fmt(l.ltv), fmt(l.debt_yield)]), "Per-loan metrics")));
  }
  const pl = r.portfolio_loss;
  if (pl) {
    const hist = pl.histogram ?? {};
    const counts: number[] = hist.counts ?? [];
    const edges: number[] = hist.edges ?? [];
    const mids = counts.map((_, i) => (edges[i] !== undefined && edges[i + 1] !== undefined ? fmt((edges[i] + edges[i + 1]) / 2, 3) : String(i)));
    const keys = ["expected_loss", "var_99", "es_99"];
    const pct = pl.percentiles ?? {};
    const vas = pl.vasicek ?? {};
    out.push(section("Portfolio loss distribution",
      counts.length ? bars("loss-distribution", `Simulated portfolio loss histogram, ${counts.length} bins`, mids, [{ name: "paths", data: counts }], { xName: "loss", yName: "paths" }) : null,
      table(["Measure", "Simulation", "Vasicek large pool"], [
        ...keys.map((k) => [k, fmt(pl[k]), fmt(vas[k])]),
        ...Object.keys(pct).map((k) => [k, fmt(pct[k]), fmt(vas.percentiles?.[k])]),
      ], "Loss measures (currency)")));
  }
  const conc = r.concentration;
  if (conc) {
    const by = conc.by_property_type ?? {};
    const entries: [string, number][] = Array.isArray(by) ? by.map((x: Json) => [String(pick(x, ["property_type", "key", "name"])), Number(pick(x, ["share", "value"]))]) : Object.entries(by).map(([k, v]) => [k, Number(typeof v === "object" ? (v as Json).share : v)]);
    out.push(section("Concentration",
      h("p", {}, `HHI ${fmt(conc.hhi)}, effective number ${fmt(conc.effective_number)}, top-10 share ${fmt(conc.top10_share)}.`),
      entries.length ? bars("concentration", "Balance share by property type", entries.map((e) => e[0]), [{ name: "share", data: entries.map((e) => e[1]) }], { yName: "share" }) : null));
  }
  return out;
}

/** The deal statements (deals/run form) inside a response: top level, `.deal`, or per scenario. */
function statements(r: Json): Json[] {
  if (r?.tranches && !Array.isArray(r.tranches)) return [{ name: r.name ?? "run", ...r }];
  for (const k of ["deal", "statements", "result"]) if (r?.[k]?.tranches) return [{ name: r[k].name ?? k, ...r[k] }];
  if (Array.isArray(r?.scenarios)) return r.scenarios.filter((s: Json) => s?.tranches);
  if (Array.isArray(r?.runs)) return r.runs.filter((s: Json) => s?.tranches);
  return [];
}

function dealView(r: Json, request: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const triggers: Record<string, number> = Object.fromEntries((request.deal?.tests ?? []).map((t: Json) => [t.name, t.trigger]));
  for (const st of statements(r)) {
    const tranches: Record<string, Json> = st.tranches;
    const names = Object.keys(tranches).filter((n) => Array.isArray(tranches[n].balance));
    out.push(section(`Tranche paydown (${st.name})`,
      periodsChart("tranche-paydown", `Balance of ${names.length} tranches by period`, names.map((n) => ({ name: n, data: tranches[n].balance })), "balance")));
    const tests: Record<string, Json> = st.tests ?? {};
    const tnames = Object.keys(tests).filter((n) => Array.isArray(tests[n].value));
    if (tnames.length) {
      const cushions = tnames.map((n) => {
        const trig = tests[n].trigger ?? triggers[n];
        return { name: `${n} (trigger ${fmt(trig)})`, data: (tests[n].value as (number | null)[]).map((v) => (v === null || trig === undefined ? null : v - trig)) };
      });
      out.push(section(`OC / IC cushions (${st.name})`,
        periodsChart("cushions", `Cushion (ratio minus trigger) of ${tnames.length} tests by period`, cushions, "ratio − trigger"),
        h("p", { class: "hint" }, "Below zero the test fails (and its cure step diverts cash)."),
        st.checks?.cash_in_equals_cash_out !== undefined ? h("p", {}, `Cash in equals cash out: ${JSON.stringify(st.checks.cash_in_equals_cash_out)}`) : null));
    }
  }
  return out;
}

function cloView(r: Json, request: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const q = r.quality_tests;
  if (q) {
    out.push(section("Collateral quality tests",
      table(["Test", "Value", "Trigger", "Passed"], Object.entries(q as Record<string, Json>).map(([k, v]) => [k, fmt(v?.value), fmt(v?.trigger), v?.passed === undefined ? "—" : v.passed ? "pass" : "FAIL"]), "Quality tests (spreads and coupons as decimals, WARF on Moody's scale)", { "data-testid": "quality-tests" })));
  }
  return [...out, ...dealView(r, request)];
}

const VIEWS: Record<Key, (r: Json, req: Json) => HTMLElement[]> = {
  consumer: (r) => consumerView(r),
  commercial: (r) => commercialView(r),
  clo: cloView,
  deal: dealView,
};

function assetCard(route: (typeof ASSET_ROUTES)[number]): HTMLElement {
  const id = `req-${route.key}`;
  const text = h("textarea", { id, class: "json", rows: 10, spellcheck: "false", "data-testid": `request-${route.key}`, "aria-describedby": `${id}-err` });
  text.value = JSON.stringify(SAMPLES[route.key](), null, 1);
  const errs = h("div", { id: `${id}-err`, class: "field-error", role: "alert" });
  const run = h("button", { type: "button", "data-testid": `run-${route.key}` }, "Run");
  const out = h("div", { "data-testid": `result-${route.key}`, "aria-live": "polite" });
  run.addEventListener("click", async () => {
    errs.replaceChildren();
    text.removeAttribute("aria-invalid");
    let body: Json;
    try {
      body = JSON.parse(text.value);
    } catch (e) {
      errs.textContent = `Not valid JSON: ${e instanceof Error ? e.message : e}`;
      text.setAttribute("aria-invalid", "true");
      return;
    }
    busy(run, true);
    try {
      const { status, body: res } = await call(route.path, { json: body });
      if (status === 202) {
        out.replaceChildren(h("p", {}, "Submitted as a job: ", h("a", { href: `#/jobs/${res.job_id}` }, "follow it on the Jobs page"), "."));
        return;
      }
      const views = VIEWS[route.key](res, body);
      out.replaceChildren(...(views.length ? views : [h("p", {}, "The response had nothing this view draws.")]),
        h("details", {}, h("summary", {}, "Response (JSON)"), h("pre", {}, JSON.stringify(res, null, 1).slice(0, 20000))));
    } catch (e) {
      text.setAttribute("aria-invalid", "true");
      if (e instanceof ApiError && e.problems.length) {
        errs.append(h("ul", {}, e.problems.map((p) => h("li", {}, h("code", {}, p.loc.filter((x) => x !== "body").join(".") || "(request)"), " ", p.msg))));
      } else errs.textContent = String(e instanceof Error ? e.message : e);
    } finally {
      busy(run, false);
    }
  });
  return section(route.title, h("p", { class: "hint" }, h("code", {}, `POST ${route.path}`)),
    h("label", { for: id }, "Request (JSON)"), text, errs, h("div", { class: "actions" }, run), out);
}

export async function renderAssets(main: HTMLElement): Promise<void> {
  main.append(h("h1", {}, "Asset classes"));
  const paths = await apiPaths();
  const present = ASSET_ROUTES.filter((r) => paths.has(r.path));
  if (!present.length) {
    main.append(h("p", {}, "This service has no asset-class routes yet."));
    return;
  }
  main.append(...present.map(assetCard));
}
