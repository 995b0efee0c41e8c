// Risk: sensitivity grid (POST /scenarios/grid) as a heat map, stress tests (POST
// /scenarios/stress), and Monte Carlo (POST /cashflow/monte-carlo): price histogram, percentile
// fan and OAS with its inputs. A large Monte Carlo becomes a job; its result opens here too.
import { call, get } from "../api";
import { bars, heatmap, lines } from "../charts";
import { assumptionsEditor, poolPicker } from "../forms";
import { busy, clearErrors, field, fmt, formError, h, input, numList, section, select, showErrors, table } from "../dom";
import { go } from "../nav";

type Json = Record<string, any>;

const VARIABLES: [string, string][] = [
  ["cpr", "CPR (annual decimal)"], ["psa", "PSA (%)"], ["cdr", "CDR (annual decimal)"], ["sda", "SDA (%)"],
  ["severity", "severity (decimal)"], ["prepayment_multiplier", "prepayment ×"], ["default_multiplier", "default ×"],
  ["severity_addon", "severity add-on"], ["rate_shift_bp", "rate shift (bp)"], ["abs", "ABS (monthly decimal)"],
];
const MEASURES = ["npv", "price_percent", "yield", "wal", "modified_duration", "effective_duration", "dv01", "cumulative_loss", "cumulative_loss_fraction", "loss_wal_years"];

export async function renderRisk(main: HTMLElement, _rest: string[], params: URLSearchParams): Promise<void> {
  main.append(h("h1", {}, "Risk"));
  const jobId = params.get("job");
  if (jobId) {
    const box = h("div", { "data-testid": "mc-result" });
    main.append(section("Monte Carlo job result", h("p", {}, "Job ", h("code", {}, jobId)), box));
    try {
      renderMonteCarlo(box, await get<Json>(`/api/v1/jobs/${jobId}/result`), null);
    } catch (e) {
      box.append(h("p", { class: "form-error", role: "alert" }, String(e)));
    }
  }
  const pool = await poolPicker("pool", params.get("pool"));
  const base = assumptionsEditor("assumptions");
  const disc = input({ inputmode: "decimal", value: "0.055", size: 7, name: "discount_rate" });
  main.append(section("Pool and base assumptions", h("div", { class: "row" }, pool.el,
    field("Discount rate (annual decimal)", disc, { loc: "valuation.discount_rate" })), base.el));
  const common = () => ({ pool: pool.value(), assumptions: base.value(), valuation: disc.value.trim() ? { discount_rate: Number(disc.value) } : undefined });
  main.append(gridForm(common), stressForm(common), monteCarloForm());
}

function gridForm(common: () => Json): HTMLElement {
  const xv = select(VARIABLES, "cpr", { name: "x_variable" });
  const xs = input({ value: "0, 0.05, 0.1, 0.2", name: "x_values" });
  const yv = select([["", "(none: 1-D)"], ...VARIABLES], "cdr", { name: "y_variable" });
  const ys = input({ value: "0, 0.01, 0.02, 0.05", name: "y_values" });
  const m = select(MEASURES.map((k) => [k, k] as [string, string]), "wal", { name: "measure" });
  const out = h("div", { "data-testid": "grid-result" });
  const submit = h("button", { type: "submit" }, "Run grid");
  const form = h("form", { class: "card", novalidate: true },
    h("h2", {}, "Sensitivity grid"),
    h("div", { class: "row" },
      field("x variable", xv, { loc: "x.variable" }), field("x values", xs, { loc: "x.values", hint: "comma-separated" }),
      field("y variable", yv, { loc: "y.variable" }), field("y values", ys, { loc: "y.values" }),
      field("Measure shown", m, { loc: "measures" })),
    formError(), submit, out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body: Json = { ...common(), x: { variable: xv.value, values: numList(xs.value) }, measures: MEASURES };
    if (yv.value) body.y = { variable: yv.value, values: numList(ys.value) };
    busy(submit, true);
    try {
      const { body: r } = await call("/api/v1/scenarios/grid", { json: body });
      clearErrors(form);
      const z: (number | null)[][] = r.measures[m.value];
      const xl = r.x.values.map(String);
      const yl = r.y ? r.y.values.map(String) : [m.value];
      // rows over x, columns over y: plot x across, y up
      const zz = yl.map((_: string, yi: number) => xl.map((_x: string, xi: number) => z[xi][yi] ?? null));
      out.replaceChildren(
        heatmap("grid", `${m.value} over ${r.x.variable}${r.y ? ` and ${r.y.variable}` : ""}`, xl, yl, zz, { xName: r.x.variable, yName: r.y?.variable ?? "" }),
        h("p", { class: "hint" }, `${r.projections} projections in ${fmt(r.duration_ms, 3)} ms.`),
        table([`${r.x.variable} \\ ${r.y?.variable ?? m.value}`, ...yl], xl.map((x: string, xi: number) => [x, ...z[xi].map((v) => fmt(v))]), `${m.value} (rows: ${r.x.variable})`));
    } catch (e) {
      showErrors(form, e);
    } finally {
      busy(submit, false);
    }
  });
  return form;
}

function stressForm(common: () => Json): HTMLElement {
  const out = h("div", { "data-testid": "stress-result" });
  const submit = h("button", { type: "submit" }, "Run standard stresses");
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "Stress tests"),
    h("p", { class: "hint" }, "Parallel ±100/200/300 bp, 2s10s twists, defaults ×2, severity +10 points, prepayments ×0.5/×1.5 and two combined shocks."),
    formError(), submit, out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    busy(submit, true);
    try {
      const { body: r } = await call("/api/v1/scenarios/stress", { json: { ...common(), standard: true } });
      clearErrors(form);
      const keys = Object.keys(r.base.measures);
      const rowsAll = [r.base, ...r.shocks];
      out.replaceChildren(
        bars("stress", "Change in NPV under each stress", r.shocks.map((s: Json) => s.name), [{ name: "Δ npv", data: r.shocks.map((s: Json) => s.deltas.npv ?? null) }], { yName: "Δ npv" }),
        table(["Shock", ...keys.flatMap((k) => [k, `Δ ${k}`])], rowsAll.map((s: Json) => [s.name, ...keys.flatMap((k) => [fmt(s.measures[k]), fmt(s.deltas[k])])]), "Stress results and deltas to the base"));
    } catch (e) {
      showErrors(form, e);
    } finally {
      busy(submit, false);
    }
  });
  return form;
}

function monteCarloForm(): HTMLElement {
  const bal = input({ value: "1000000", name: "balance" });
  const note = input({ value: "0.065", name: "note_rate" });
  const term = input({ value: "360", name: "remaining_term" });
  const age = input({ value: "12", name: "age" });
  const curve = input({ value: "0.04", name: "curve_rate", inputmode: "decimal" });
  const a = input({ value: "0.03", name: "mean_reversion" });
  const sigma = input({ value: "0.01", name: "volatility" });
  const paths = input({ value: "500", name: "n_paths", inputmode: "numeric" });
  const seed = input({ value: "7", name: "seed", inputmode: "numeric" });
  const price = input({ value: "1000000", name: "price", inputmode: "decimal" });
  const cdr = input({ value: "0.01", name: "cdr", inputmode: "decimal" });
  const sev = input({ value: "0.35", name: "severity", inputmode: "decimal" });
  const asJob = h("input", { type: "checkbox", id: "mc-async" });
  const out = h("div", { "data-testid": "mc-result", "aria-live": "polite" });
  const submit = h("button", { type: "submit" }, "Run Monte Carlo");
  const form = h("form", { class: "card", novalidate: true }, h("h2", {}, "Monte Carlo and OAS"),
    h("p", { class: "hint" }, "Rep-lines (comma-separated for several), a flat zero curve, Hull-White short rates; a price enables OAS."),
    h("div", { class: "row" },
      field("Balance", bal, { loc: "pool.balance" }), field("Note rate", note, { loc: "pool.note_rate" }),
      field("Remaining term (months)", term, { loc: "pool.remaining_term" }), field("Age (months)", age, { loc: "pool.age" })),
    h("div", { class: "row" },
      field("Flat zero rate (cont. comp.)", curve, { loc: "curve" }), field("Mean reversion a", a, { loc: "rate_model.mean_reversion" }),
      field("Volatility σ", sigma, { loc: "rate_model.volatility" }), field("Paths", paths, { loc: "n_paths" }), field("Seed", seed, { loc: "seed" })),
    h("div", { class: "row" },
      field("Price (currency, dirty)", price, { loc: "price" }), field("CDR", cdr, { loc: "default.cdr" }), field("Severity", sev, { loc: "default.severity" }),
      h("div", { class: "field check" }, asJob, h("label", { for: asJob.id }, "Run as a job"))),
    formError(), submit, out);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = Number(curve.value);
    const body: Json = {
      pool: { balance: numList(bal.value), note_rate: numList(note.value), remaining_term: numList(term.value), age: numList(age.value) },
      curve: { times: [0.25, 1, 2, 5, 10, 30], rates: [r, r, r, r, r, r] },
      rate_model: { type: "hull_white", mean_reversion: Number(a.value), volatility: Number(sigma.value) },
      default: { cdr: Number(cdr.value), severity: Number(sev.value) },
      n_paths: Number(paths.value), seed: Number(seed.value),
      percentiles: [1, 5, 10, 25, 50, 75, 90, 95, 99], histogram_bins: 25,
    };
    if (price.value.trim()) body.price = Number(price.value);
    if (asJob.checked) body.async = true;
    busy(submit, true);
    try {
      const { status, body: res } = await call("/api/v1/cashflow/monte-carlo", { json: body });
      clearErrors(form);
      if (status === 202) {
        go(`#/jobs/${res.job_id}`);
        return;
      }
      renderMonteCarlo(out, res, body);
    } catch (e) {
      showErrors(form, e);
    } finally {
      busy(submit, false);
    }
  });
  return form;
}

export function renderMonteCarlo(out: HTMLElement, r: Json, inputs: Json | null): void {
  const pv = r.pv;
  const edges: (number | null)[] = pv.histogram.edges;
  const mids = pv.histogram.counts.map((_: number, i: number) => {
    const lo = edges[i];
    const hi = edges[i + 1];
    return lo !== null && hi !== null ? Math.round((lo + hi) / 2) : i;
  });
  const pct = Object.entries(pv.percentiles as Record<string, number | null>).sort((x, y) => Number(x[0]) - Number(y[0]));
  const fanLevels = pct.map(([k]) => Number(k));
  // percentile fan: nested bands around the median (p_k .. p_100-k), drawn as a quantile curve
  const median = pv.percentiles["50"] ?? pv.percentiles["50.0"] ?? pv.mean;
  out.replaceChildren(
    bars("mc-histogram", `Histogram of path present values over ${r.n_paths} paths`, mids.map(String), [{ name: "paths", data: pv.histogram.counts }], { xName: "present value (bin midpoint)", yName: "paths" }),
    lines("mc-fan", "Percentile fan of the price (present value) distribution", fanLevels.map((k) => `p${k}`), [
      { name: "PV percentile", data: pct.map(([, v]) => v) },
      { name: "median", data: pct.map(() => median) },
      { name: "mean", data: pct.map(() => pv.mean) },
    ], { xName: "percentile", yName: "present value", scale: true }),
    table(["Measure", "Value"], [
      ["OAS (cont. comp., annual)", fmt(r.oas)], ["Z-spread", fmt(r.z_spread)], ["Option cost", fmt(r.option_cost)],
      ["Effective duration", fmt(r.effective_duration)], ["Effective convexity", fmt(r.effective_convexity)],
      ["Mean PV", fmt(pv.mean)], ["Std error of mean PV", fmt(pv.standard_error)], ["Mean WAL (years)", fmt(r.wal?.mean)],
      ["Mean loss", fmt(r.loss?.mean)], ["Paths × months", `${r.n_paths} × ${r.n_months}`],
    ], "OAS and distribution summary", { "data-testid": "oas-table" }),
  );
  if (inputs) out.append(h("details", {}, h("summary", {}, "OAS inputs (the request sent)"), h("pre", {}, JSON.stringify(inputs, null, 2))));
}
