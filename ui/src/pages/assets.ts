// Asset classes: views of the specialised-asset routes (consumer credit, commercial loans,
// CLO/CDO) and the deal waterfall, reading the response shapes of app/models/{consumer_credit,
// commercial,clo,deals}.py. Each view is shown only when /openapi.json lists its route. The request
// is edited as JSON ("Load example" fills in a small body the route accepts), with a few common
// fields as controls of their own; a 422's problems are placed next to the control their path
// names, the rest under the request.
import { apiPaths, call } from "../api";
import { chart, compact, heatmap, lines, scatter, bars } from "../charts";
import { busy, clearErrors, field, fmt, formError, h, input, section, showErrors, table } from "../dom";
import { EXAMPLES } from "./asset_examples";

type Json = Record<string, any>;

export const ASSET_ROUTES = [
  { path: "/api/v1/specialized-assets/consumer-credit/analyze", key: "consumer", title: "Consumer credit: roll rates, vintages and pipeline" },
  { path: "/api/v1/specialized-assets/commercial-loans/analyze", key: "commercial", title: "Commercial real estate: DSCR / LTV, loss distribution, concentration" },
  { path: "/api/v1/specialized-assets/clo-cdo/analyze", key: "clo", title: "CLO / CDO: quality tests, tranche paydown and OC / IC cushions" },
  { path: "/api/v1/specialized-assets/clo-cdo/tranche-analysis", key: "tranches", title: "CLO / CDO tranches: yield, WAL, duration, break-even CDR" },
  { path: "/api/v1/deals/run", key: "deal", title: "Deal waterfall: tranche paydown and OC / IC cushions" },
] as const;

type Key = (typeof ASSET_ROUTES)[number]["key"];

/** Request fields with a control of their own: [label, dot path in the body, hint]. */
const KNOBS: Record<Key, [string, string, string][]> = {
  consumer: [
    ["Pipeline months", "pipeline.months", "1 to 1200"],
    ["Roll-rate method", "roll_rates.method", "cohort or duration"],
    ["Roll-rate weight", "roll_rates.weight", "count or balance"],
    ["Vintage months on book", "vintages.max_months", "blank: all observed"],
  ],
  commercial: [
    ["Loss correlation", "portfolio_loss.correlation", "decimal in [0, 1)"],
    ["Loss paths", "portfolio_loss.n_paths", "100 to 1,000,000"],
    ["Histogram bins", "portfolio_loss.histogram_bins", "5 to 500"],
    ["NOI haircut", "noi_haircut", "decimal in [0, 1)"],
  ],
  clo: [
    ["CDR (annual)", "assumptions.cdr", "decimal in [0, 1)"],
    ["CPR (annual)", "assumptions.cpr", "decimal in [0, 1)"],
    ["Months", "assumptions.n_periods", "blank: the last maturity"],
    ["Reinvestment ends (period)", "reinvestment.end_period", "≥ 0"],
  ],
  tranches: [
    ["CDR (annual)", "assumptions.cdr", "decimal in [0, 1)"],
    ["Price of B", "prices.B", "per unit of par, > 0"],
    ["Break-even tolerance", "breakeven_tolerance", "currency, > 0"],
  ],
  deal: [
    ["Collateral balance", "collateral_cashflows.balance", "currency, ≥ 0"],
    ["First test trigger", "deal.tests.0.trigger", "ratio, e.g. 1.08"],
    ["Second test trigger", "deal.tests.1.trigger", "ratio, e.g. 1.10"],
  ],
};

// ---- paths into the body ---------------------------------------------------------------------
function getPath(o: any, path: string): any {
  return path.split(".").reduce((v, k) => (v === null || v === undefined ? undefined : v[k]), o);
}

function setPath(o: Json, path: string, value: unknown): void {
  const keys = path.split(".");
  let cur: any = o;
  keys.slice(0, -1).forEach((k, i) => {
    if (cur[k] === null || typeof cur[k] !== "object") cur[k] = /^\d+$/.test(keys[i + 1]) ? [] : {};
    cur = cur[k];
  });
  const last = keys[keys.length - 1];
  if (value === undefined) {
    if (cur && typeof cur === "object" && !Array.isArray(cur)) delete cur[last];
  } else cur[last] = value;
}

/** The control's text as JSON: a number stays a number, anything else is sent as a string. */
function parseKnob(text: string): unknown {
  const t = text.trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : t;
}

// ---- charts and tables of the response -----------------------------------------------------------
const finite = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

function consumerView(r: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const rr = r.roll_rates;
  if (rr?.matrix && rr?.states) {
    const states: string[] = rr.states;
    const counts: (number | null)[][] = rr.counts ?? [];
    out.push(section(`Roll-rate matrix (${rr.method}, by ${rr.weight}, ${rr.interval} intervals)`,
      heatmap("roll-rates", `Roll-rate matrix over ${states.length} states, rows from-state; each cell the rate and (count)`, states, states, rr.matrix,
        { xName: "to state", yName: "from state", digits: 3, inverseY: true, cellText: (i, j) => (finite(counts[i]?.[j]) ? `(${fmt(counts[i][j])})` : "") }),
      table(["from \\ to", ...states, "row total"], states.map((s, i) => [s, ...states.map((_, j) => fmt(counts[i]?.[j])), fmt(rr.row_totals?.[i])]), `Transition counts (${rr.weight})`),
      rr.warnings?.length ? h("ul", { class: "hint" }, rr.warnings.map((w: string) => h("li", {}, w))) : null));
  }
  const v = r.vintages;
  if (v?.vintages?.length) {
    const mob: number[] = v.months_on_book;
    const series = v.vintages.flatMap((c: Json, i: number) => [
      { name: `${c.vintage}`, data: c.charge_off_rate as (number | null)[], color: PAL[i % PAL.length] },
      // completed beyond the observed months only (it equals the observed curve before them)
      { name: `${c.vintage} completed`, data: (c.completed_charge_off_rate as (number | null)[]).map((x, m) => (m + 1 >= (c.observed_months ?? 0) ? x : null)), dashed: true, color: PAL[i % PAL.length] },
    ]);
    out.push(section("Vintage curves: cumulative charge-off rate",
      lines("vintages", `Cumulative charge-off rate by months on book for ${v.vintages.length} vintages, observed (solid) and chain-ladder completed (dashed)`, mob, series,
        { xName: "months on book", yName: "rate" }),
      table(["Vintage", "Loans", "Original balance", "Observed months", `Completed at ${mob.length}`],
        v.vintages.map((c: Json) => [String(c.vintage), fmt(c.loans), fmt(c.original_balance), fmt(c.observed_months), fmt(c.completed_charge_off_rate?.[mob.length - 1])]), "Vintages")));
  }
  const p = r.pipeline;
  if (p?.balances && p?.months) {
    const states = Object.keys(p.balances);
    out.push(section("Pipeline: balance by state",
      lines("pipeline", `Projected balance by state over ${p.months.length} months (stacked; charged-off and prepaid cumulative)`, p.months,
        states.map((s) => ({ name: s, data: p.balances[s], area: true, stack: "b" })), { xName: "month", yName: "balance" }),
      h("p", { class: "hint" }, p.amortization ?? "")));
  }
  if (!out.length && r.warnings?.length) out.push(section("Warnings", h("ul", {}, r.warnings.map((w: string) => h("li", {}, w)))));
  return out;
}

const PAL = ["#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490", "#be123c", "#4d7c0f"];

function lossChart(pl: Json): HTMLElement | null {
  const counts: number[] = pl.histogram?.counts ?? [];
  const edges: number[] = pl.histogram?.edges ?? [];
  if (!counts.length) return null;
  const x = counts.map((_, i) => compact((edges[i] + edges[i + 1]) / 2));
  const n = pl.n_paths || counts.reduce((a, b) => a + b, 0);
  const vas: number[] | undefined = pl.vasicek?.histogram?.probabilities;
  const series: Json[] = [{ type: "bar", name: "simulation (share of paths)", data: counts.map((c) => c / n) }];
  if (vas) series.push({ type: "line", name: "Vasicek large pool", data: vas, showSymbol: false, step: "middle" });
  return chart({
    name: "loss-distribution",
    label: `Portfolio loss over ${pl.horizon_years} year(s): simulated histogram of ${counts.length} bins beside the Vasicek large-pool distribution`,
    points: series.map((s) => s.data.length),
    option: {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 36, bottom: 48 },
      xAxis: { type: "category", data: x, name: "loss (bin midpoint)", nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", name: "probability" },
      series,
    },
  });
}

function commercialView(r: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const loans: Json[] = Array.isArray(r.loans) ? r.loans : [];
  if (loans.length) {
    const pts = loans.filter((l) => finite(l.ltv) && finite(l.dscr)).map((l) => [l.ltv, l.dscr] as [number, number]);
    out.push(section("DSCR against LTV (one point per loan)",
      scatter("dscr-ltv", `DSCR against LTV for ${pts.length} loans, with DSCR lines at 1.0 and 1.25 and LTV lines at 80% and 100%`, [{ name: "loans", data: pts }],
        { xName: "LTV", yName: "DSCR", markX: [0.8, 1.0], markY: [1.0, 1.25] }),
      table(["Loan", "Type", "Balance", "DSCR", "LTV", "Debt yield", "PD (annual)", "Severity", "Expected loss"],
        loans.map((l) => [String(l.loan_id ?? ""), String(l.property_type ?? ""), fmt(l.balance), fmt(l.dscr), fmt(l.ltv), fmt(l.debt_yield), fmt(l.pd_annual), fmt(l.severity), fmt(l.expected_loss)]),
        "Per-loan metrics", { "data-testid": "loan-metrics" })));
  }
  const pl = r.portfolio_loss;
  if (pl) {
    const vas = pl.vasicek ?? {};
    const pct = Object.keys(pl.percentiles ?? {});
    out.push(section(`Portfolio loss distribution (${fmt(pl.n_paths)} paths, seed ${pl.seed})`,
      lossChart(pl),
      h("p", { class: "hint" }, "Bars: the Gaussian-copula simulation of this pool (lumpy for a few loans). Line: the Vasicek large-pool distribution on the same bins (an infinitely granular pool with the same PD, severity and correlation)."),
      table(["Measure", "Simulation", "Vasicek large pool"], [
        ...["expected_loss", "var_99", "es_99"].map((k) => [k, fmt(pl[k]), fmt(vas[k])]),
        ...pct.map((k) => [k, fmt(pl.percentiles[k]), fmt(vas.percentiles?.[k])]),
      ], `Loss measures (currency; exposure ${fmt(pl.total_exposure)}; simulation standard error ${fmt(pl.standard_error)})`, { "data-testid": "loss-measures" })));
  }
  const c = r.concentration;
  if (c) {
    const by: Json[] = Array.isArray(c.by_property_type) ? c.by_property_type : [];
    out.push(section("Concentration",
      h("p", {}, `HHI ${fmt(c.hhi)} (effective number of loans ${fmt(c.effective_number)}), top-10 share ${fmt(c.top10_share)}; HHI by property type ${fmt(c.hhi_property_type)}, by state ${fmt(c.hhi_state)}, by sponsor ${fmt(c.hhi_sponsor)}.`),
      by.length ? bars("concentration", `Balance share by property type, ${by.length} types`, by.map((x) => String(x.key)), [{ name: "share of balance", data: by.map((x) => x.share) }], { yName: "share" }) : null));
  }
  return out;
}

/** The deal statements in a response: deals/run itself, `.deal` of a CLO analysis, or its scenarios. */
function statements(r: Json): Json[] {
  if (Array.isArray(r?.scenarios) && r.scenarios.length) return r.scenarios.filter((s: Json) => s?.tranches).map((s: Json) => ({ label: s.name ?? s.scenario ?? "scenario", ...s }));
  if (r?.tranches) return [{ label: r.deal ?? "run", ...r }];
  if (r?.deal?.tranches) return [{ label: r.deal.deal ?? "deal", ...r.deal }];
  return [];
}

function dealView(r: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  for (const st of statements(r)) {
    const tranches: Record<string, Json> = st.tranches;
    const names = Object.keys(tranches);
    const debt = names.filter((n) => Array.isArray(tranches[n].balance));
    const periods: number[] = st.periods ?? (debt.length ? tranches[debt[0]].balance.map((_: number, i: number) => i + 1) : []);
    const sum = (a: unknown): number | null => (Array.isArray(a) ? a.reduce((s: number, x) => s + (finite(x) ? x : 0), 0) : null);
    out.push(section(`Tranche paydown (${st.label})`,
      lines("tranche-paydown", `Balance of ${debt.length} debt tranches over ${periods.length} periods`, periods, debt.map((n) => ({ name: n, data: tranches[n].balance })), { xName: "period", yName: "balance" }),
      table(["Tranche", "Interest paid", "Principal paid", "Shortfall (last)", "Write-down", "Cash"],
        names.map((n) => { const t = tranches[n]; return [n, fmt(sum(t.interest_paid)), fmt(sum(t.principal_paid)), fmt(t.interest_shortfall?.[t.interest_shortfall.length - 1]), fmt(sum(t.writedown)), fmt(sum(t.cash))]; }),
        "Totals per tranche over the run (currency)", { "data-testid": "tranche-totals" })));
    const tests: Record<string, Json> = st.tests ?? {};
    const tnames = Object.keys(tests).filter((n) => Array.isArray(tests[n].value) && finite(tests[n].trigger));
    if (tnames.length) {
      out.push(section(`OC / IC cushions (${st.label})`,
        lines("cushions", `Cushion (ratio minus trigger) of ${tnames.length} tests over ${periods.length} periods`, periods,
          tnames.map((n) => ({ name: `${n} (trigger ${fmt(tests[n].trigger)})`, data: (tests[n].value as (number | null)[]).map((v) => (finite(v) ? v - tests[n].trigger : null)) })),
          { xName: "period", yName: "ratio − trigger" }),
        h("p", { class: "hint" }, "Below zero the test fails (its cure step diverts interest to pay down the notes)."),
        table(["Test", "Trigger", "Periods failed", "Cure paid"], tnames.map((n) => [n, fmt(tests[n].trigger), fmt((tests[n].passed ?? []).filter((p: boolean | null) => p === false).length), fmt(sum(tests[n].cure_paid))]), "Tests")));
    }
    if (st.checks) out.push(h("p", { "data-testid": "deal-checks" }, `Cash in equals cash out: ${st.checks.cash_in_equals_cash_out ? "yes" : "NO"} (largest difference ${fmt(st.checks.max_abs_difference)}).`));
  }
  return out;
}

function cloView(r: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const q: Record<string, Json> = r.quality_tests ?? {};
  out.push(section("Collateral quality tests",
    table(["Test", "Value", "Trigger", "Result"], Object.entries(q).map(([k, v]) => [k, fmt(v?.value), fmt(v?.trigger), v?.passed === null || v?.passed === undefined ? "no trigger" : v.passed ? "pass" : "FAIL"]),
      "Quality tests (spreads and coupons as decimals, WAL in years, WARF on Moody's scale)", { "data-testid": "quality-tests" }),
    r.collateral ? h("p", {}, `${fmt(r.collateral.n_assets)} assets, par ${fmt(r.collateral.par)} (performing ${fmt(r.collateral.performing_par)}), market value ${fmt(r.collateral.market_value)}, Caa excess haircut ${fmt(r.collateral.ccc_excess_haircut)}, ${fmt(r.collateral.n_periods)} months.`) : null));
  return [...out, ...dealView(r)];
}

function trancheView(r: Json, req: Json): HTMLElement[] {
  const out: HTMLElement[] = [];
  const tr: Record<string, Json> = r.tranches ?? {};
  const names = Object.keys(tr);
  const debt = names.filter((n) => tr[n].role !== "equity");
  const cdr = getPath(req, "assumptions.cdr");
  out.push(section(`Tranche analytics (${r.deal}, ${fmt(r.n_periods)} periods${finite(cdr) ? `, CDR ${fmt(cdr)}` : ""})`,
    table(["Tranche", "Role", "Price", "Yield", "WAL (years)", "Modified duration", "Discount margin", "Break-even CDR", "Loss at assumptions", "Equity IRR"],
      names.map((n) => { const t = tr[n]; return [n, String(t.role ?? ""), fmt(t.price), fmt(t.yield), fmt(t.wal), fmt(t.modified_duration), fmt(t.discount_margin), fmt(t.breakeven_cdr), fmt(t.loss_at_assumptions), fmt(t.irr)]; }),
      `Per tranche (${r.conventions?.yield ?? "yields"}; ${r.conventions?.time ?? ""})`, { "data-testid": "tranche-analytics" }),
    debt.length ? bars("breakeven-cdr", `Break-even CDR of ${debt.length} debt tranches`, debt, [{ name: "break-even CDR", data: debt.map((n) => (finite(tr[n].breakeven_cdr) ? tr[n].breakeven_cdr : null)) }],
      { yName: "annual CDR" }) : null,
    h("p", { class: "hint" }, "Break-even CDR: the constant annual default rate at which the tranche first loses more than the tolerance (null: it never does within the search range)."),
  ));
  const cush: Record<string, (number | null)[]> = r.cushions ?? {};
  const tests = Object.keys(cush);
  if (tests.length) {
    const n = Math.max(...tests.map((t) => cush[t].length));
    out.push(section("OC / IC cushions at the assumptions",
      lines("cushions", `Cushion (ratio minus trigger) of ${tests.length} tests over ${n} periods`, Array.from({ length: n }, (_, i) => i + 1), tests.map((t) => ({ name: t, data: cush[t] })), { xName: "period", yName: "ratio − trigger" })));
  }
  return out;
}

const VIEWS: Record<Key, (r: Json, req: Json) => HTMLElement[]> = { consumer: consumerView, commercial: commercialView, clo: cloView, tranches: trancheView, deal: dealView };

// ---- one card per route ------------------------------------------------------------------------
function assetCard(route: (typeof ASSET_ROUTES)[number]): HTMLElement {
  const id = `req-${route.key}`;
  const text = h("textarea", { id, class: "json", rows: 12, spellcheck: "false", "data-testid": `request-${route.key}`, placeholder: "A request body (JSON): press Load example" });
  const knobs = KNOBS[route.key].map(([label, loc, hint]) => {
    const c = input({ "data-testid": `knob-${route.key}-${loc}`, inputmode: "decimal", autocomplete: "off" });
    return { loc, control: c, el: field(label, c, { loc, hint }) };
  });
  const errBox = formError();
  const run = h("button", { type: "submit", "data-testid": `run-${route.key}` }, "Run");
  const load = h("button", { type: "button", class: "small", "data-testid": `example-${route.key}` }, "Load example");
  const out = h("div", { "data-testid": `result-${route.key}`, "aria-live": "polite" });
  const form = h("form", { "data-testid": `form-${route.key}`, novalidate: true },
    h("div", { class: "row" }, knobs.map((k) => k.el)), field("Request (JSON)", text), errBox, h("div", { class: "actions" }, load, run));

  const fill = (body: Json) => {
    text.value = JSON.stringify(body, null, 1);
    for (const k of knobs) {
      const v = getPath(body, k.loc);
      k.control.value = v === undefined || v === null ? "" : String(v);
    }
  };
  load.addEventListener("click", () => {
    clearErrors(form);
    fill(EXAMPLES[route.key]());
    out.replaceChildren();
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    let body: Json;
    try {
      body = text.value.trim() ? JSON.parse(text.value) : {};
    } catch (e) {
      clearErrors(form);
      out.replaceChildren();
      text.setAttribute("aria-invalid", "true");
      document.getElementById(`${id}-err`)!.textContent = `Not valid JSON: ${e instanceof Error ? e.message : e}`;
      text.focus();
      return;
    }
    for (const k of knobs) setPath(body, k.loc, parseKnob(k.control.value));
    text.value = JSON.stringify(body, null, 1);
    busy(run, true);
    try {
      const { status, body: res } = await call(route.path, { json: body });
      clearErrors(form);
      if (status === 202) {
        out.replaceChildren(h("p", {}, "Submitted as a job: ", h("a", { href: `#/jobs/${res.job_id}` }, "follow it on the Jobs page"), "."));
        return;
      }
      const views = VIEWS[route.key](res, body);
      const warnings: string[] = res?.warnings ?? [];
      out.replaceChildren(...(views.length ? views : [h("p", {}, "The response had nothing this view draws.")]),
        ...(warnings.length ? [h("details", {}, h("summary", {}, `Warnings (${warnings.length})`), h("ul", {}, warnings.map((w) => h("li", {}, w))))] : []),
        h("details", {}, h("summary", {}, "Response (JSON)"), h("pre", { tabindex: 0 }, JSON.stringify(res, null, 1).slice(0, 20000))));
    } catch (e) {
      out.replaceChildren();
      showErrors(form, e);
    } finally {
      busy(run, false);
    }
  });
  return section(route.title, h("p", { class: "hint" }, h("code", {}, `POST ${route.path}`)), form, out);
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
