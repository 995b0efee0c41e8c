// Forecasts: base assumptions and scenarios (blank, from a built-in template or a saved
// scenario), run (or submit as a job), and the result: balance run-off by scenario, cash-flow
// composition, defaults and losses, analytics per scenario, CSV / Parquet downloads.
import { call, download, get } from "../api";
import { bars, lines } from "../charts";
import { assumptionsEditor, AssumptionsEditor, poolPicker } from "../forms";
import { busy, clearErrors, field, fmt, formError, h, input, section, select, showErrors, table } from "../dom";
import { go } from "../nav";

type Json = Record<string, any>;

export interface ScenarioResult {
  name: string;
  n_periods: number;
  cashflows: Record<string, (number | null)[]>;
  analytics: Record<string, number | null> | null;
}

const ANALYTICS = ["npv", "irr", "yield", "wal", "macaulay_duration", "modified_duration", "convexity", "dv01", "z_spread", "effective_duration", "effective_convexity"];

export async function renderForecasts(main: HTMLElement, rest: string[], params: URLSearchParams): Promise<void> {
  main.append(h("h1", {}, rest[0] ? "Forecast result" : "Forecasts"));
  if (rest[0]) {
    main.append(h("p", {}, h("a", { href: "#/forecasts" }, "← New forecast")));
    const out = h("div", { "data-testid": "forecast-result" });
    main.append(out);
    await showForecast(out, rest[0]);
    return;
  }
  const resultBox = h("div", { "data-testid": "forecast-result", "aria-live": "polite" });
  const recent = h("div");
  const refresh = async () => recent.replaceChildren(await recentList());
  main.append(await runForm(resultBox, params.get("pool"), refresh), resultBox, recent);
  await refresh();
}

interface ScenarioRow {
  el: HTMLElement;
  name: HTMLInputElement;
  ed: AssumptionsEditor;
}

async function runForm(resultBox: HTMLElement, preselect: string | null, refresh: () => Promise<void>): Promise<HTMLElement> {
  const name = input({ name: "name", value: "dashboard forecast", "data-testid": "forecast-name" });
  const pool = await poolPicker("pool", preselect);
  const base = assumptionsEditor("assumptions");
  const rate = input({ name: "discount_rate", inputmode: "decimal", value: "0.055", size: 7 });
  const loanLevel = h("input", { type: "checkbox", name: "loan_level", id: "opt-loan-level" });
  const asJob = h("input", { type: "checkbox", name: "async", id: "opt-async", "data-testid": "as-job" });
  const scenBox = h("div", { class: "scenarios", "data-testid": "scenarios" });
  const rows: ScenarioRow[] = [];

  const templates = await get<Json[]>("/api/v1/scenarios/templates").catch(() => [] as Json[]);
  const saved = (await get<{ items: Json[] }>("/api/v1/scenarios/?limit=200").catch(() => ({ items: [] as Json[] }))).items;

  function renumber(): void {
    rows.forEach((r, i) => {
      r.name.dataset.loc = `scenarios.${i}.name`;
      r.el.querySelector("h3")!.textContent = `Scenario ${i + 1}`;
      r.el.querySelectorAll<HTMLElement>("[data-loc]").forEach((c) => {
        c.dataset.loc = c.dataset.loc!.replace(/^scenarios\.\d+\./, `scenarios.${i}.`);
      });
    });
  }

  function addScenario(nm: string, a: Json = {}, note?: string): void {
    const i = rows.length;
    const n = input({ value: nm, name: `scenario-${i}-name`, "data-testid": "scenario-name" });
    const ed = assumptionsEditor(`scenarios.${i}.assumptions`, true, a);
    const save = h("button", { type: "button", class: "small" }, "Save as scenario");
    const remove = h("button", { type: "button", class: "small" }, "Remove");
    const status = h("span", { class: "hint", "aria-live": "polite" });
    const el = h("fieldset", { class: "scenario" }, h("legend", {}, h("h3", {}, `Scenario ${i + 1}`)),
      h("div", { class: "row" }, field("Name", n, { loc: `scenarios.${i}.name` })), ed.el,
      note ? h("p", { class: "hint" }, note) : null, h("div", { class: "actions" }, save, remove, status));
    const row = { el, name: n, ed };
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      el.remove();
      renumber();
    });
    save.addEventListener("click", async () => {
      status.textContent = "";
      try {
        const body = { name: n.value, assumptions: { ...base.value(), ...ed.value() }, tags: ["dashboard"] };
        const { body: out } = await call("/api/v1/scenarios/", { json: body });
        status.textContent = `Saved as “${out.name}” (version ${out.version}).`;
      } catch (e) {
        status.textContent = `Not saved: ${e instanceof Error ? e.message : e}`;
      }
    });
    rows.push(row);
    scenBox.append(el);
  }
  addScenario("base");
  addScenario("stress", { default: { type: "cdr", rate: 0.06 }, severity: 0.45 });

  const tplSel = select([["", "Add from a template…"], ...templates.map((t) => [t.key, t.name] as [string, string])], "", { "aria-label": "Add a scenario from a built-in template" });
  tplSel.addEventListener("change", () => {
    const t = templates.find((x) => x.key === tplSel.value);
    if (t) addScenario(t.key, t.assumptions, `From template ${t.key}: ${t.description}`);
    tplSel.value = "";
  });
  const savedSel = select([["", saved.length ? "Add a saved scenario…" : "No saved scenarios yet"], ...saved.map((s) => [s.scenario_id, `${s.name} (v${s.version})`] as [string, string])], "", { "aria-label": "Add one of your saved scenarios" });
  savedSel.addEventListener("change", () => {
    const s = saved.find((x) => x.scenario_id === savedSel.value);
    if (s) addScenario(s.name, s.resolved.assumptions, `Saved scenario ${s.name} v${s.version} (its resolved assumptions; rate shocks and vectors run on the Risk page).`);
    savedSel.value = "";
  });
  const addBlank = h("button", { type: "button", "data-testid": "add-scenario", onclick: () => addScenario(`scenario ${rows.length + 1}`) }, "Add scenario");
  const submit = h("button", { type: "submit", "data-testid": "run-forecast" }, "Run forecast");

  const form = h("form", { class: "card", novalidate: true, "data-testid": "forecast-form" },
    h("h2", {}, "Run a forecast"),
    h("div", { class: "row" }, field("Name", name, { loc: "name" }), pool.el),
    h("h3", {}, "Base assumptions"), base.el,
    h("h3", {}, "Scenarios"), h("p", { class: "hint" }, "Blank fields inherit the base; each given field replaces it."),
    scenBox, h("div", { class: "actions" }, addBlank, tplSel, savedSel),
    h("h3", {}, "Valuation and options"),
    h("div", { class: "row" },
      field("Discount rate (annual decimal, monthly compounding)", rate, { loc: "valuation.discount_rate" }),
      h("div", { class: "field check" }, loanLevel, h("label", { for: loanLevel.id }, "Loan-level results (enables the Parquet download)")),
      h("div", { class: "field check" }, asJob, h("label", { for: asJob.id }, "Run as a job (progress on the Jobs page)"))),
    formError(), submit);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body: Json = {
      name: name.value,
      pool: pool.value(),
      assumptions: base.value(),
      scenarios: rows.map((r) => ({ name: r.name.value, assumptions: r.ed.value() })),
      options: { loan_level: loanLevel.checked },
    };
    if (rate.value.trim()) body.valuation = { discount_rate: Number(rate.value) };
    if (asJob.checked) body.async = true;
    busy(submit, true, "Running…");
    resultBox.replaceChildren();
    try {
      const { status, body: out } = await call("/api/v1/cashflow/forecast", { json: body });
      clearErrors(form);
      if (status === 202) {
        go(`#/jobs/${out.job_id}`);
        return;
      }
      await renderResult(resultBox, out.forecast_id, out.scenarios, { name: out.name, loan_level: loanLevel.checked, duration_ms: out.duration_ms, n_loans: out.n_loans });
      await refresh();
    } catch (e) {
      showErrors(form, e);
    } finally {
      busy(submit, false, "Run forecast");
    }
  });
  return form;
}

async function recentList(): Promise<HTMLElement> {
  const box = h("div", { "data-testid": "forecast-list" });
  try {
    const page = await get<{ items: Json[] }>("/api/v1/forecasts/?limit=15");
    box.append(page.items.length
      ? table(["Name", "Status", "Loans", "Scenarios", "Created", "Result"], page.items.map((f) => [
          f.name, f.status, String(f.n_loans), String(f.n_scenarios), new Date(f.created_at).toLocaleString(),
          f.status === "succeeded" ? h("a", { href: `#/forecasts/${f.forecast_id}` }, `Open ${f.name}`) : f.error ? String(f.error.message ?? "failed") : "",
        ]), "Your recent forecasts")
      : h("p", {}, "No forecasts yet."));
  } catch (e) {
    box.append(h("p", { class: "form-error", role: "alert" }, String(e)));
  }
  return section("Recent forecasts", box);
}

export async function showForecast(out: HTMLElement, id: string): Promise<void> {
  const [detail, proj] = await Promise.all([
    get<Json>(`/api/v1/forecasts/${id}`),
    get<{ scenarios: ScenarioResult[] }>(`/api/v1/forecasts/${id}/projections`),
  ]);
  await renderResult(out, id, proj.scenarios, detail);
}

async function renderResult(out: HTMLElement, id: string, scenarios: ScenarioResult[], meta: Json): Promise<void> {
  out.replaceChildren();
  out.dataset.forecastId = id;
  const maxN = Math.max(...scenarios.map((s) => s.n_periods));
  const periods = Array.from({ length: maxN }, (_, i) => i + 1);
  const col = (s: ScenarioResult, c: string) => s.cashflows[c] ?? [];

  const dlStatus = h("span", { class: "hint", "aria-live": "polite" });
  const csvBtn = h("button", { type: "button", "data-testid": "download-csv" }, "Download CSV");
  csvBtn.addEventListener("click", async () => {
    try {
      await download(`/api/v1/forecasts/${id}/projections?format=csv`, `forecast-${id}.csv`, "text/csv");
      dlStatus.textContent = "CSV downloaded.";
    } catch (e) {
      dlStatus.textContent = String(e);
    }
  });
  const pqButtons = meta.loan_level
    ? scenarios.map((s) => {
        const b = h("button", { type: "button", class: "small", "data-testid": "download-parquet" }, `Loan-level Parquet: ${s.name}`);
        b.addEventListener("click", async () => {
          try {
            await download(`/api/v1/forecasts/${id}/loans.parquet?scenario=${encodeURIComponent(s.name)}`, `forecast-${id}-${s.name}-loans.parquet`);
            dlStatus.textContent = "Parquet downloaded.";
          } catch (e) {
            dlStatus.textContent = String(e);
          }
        });
        return b;
      })
    : [];

  out.append(section(`Result: ${meta.name ?? id}`,
    h("p", {}, `${scenarios.length} scenario(s), ${meta.n_loans ?? "?"} loans, ${maxN} months`,
      meta.duration_ms ? `, computed in ${fmt(meta.duration_ms, 3)} ms` : "", ". Forecast id ", h("code", {}, id), "."),
    h("div", { class: "actions" }, csvBtn, ...pqButtons, dlStatus),
    h("p", { class: "hint" }, meta.loan_level ? "" : "The Parquet download holds loan-level results: run with “Loan-level results” to get it.")));

  out.append(section("Balance run-off by scenario",
    lines("balance", `Ending balance per month for ${scenarios.length} scenarios`, periods,
      scenarios.map((s) => ({ name: s.name, data: col(s, "ending_balance") })), { xName: "period (month)", yName: "balance" })));

  const pick = select(scenarios.map((s, i) => [String(i), s.name] as [string, string]), "0", { "aria-label": "Scenario shown in the composition chart" });
  const compBox = h("div");
  const drawComp = () => {
    const s = scenarios[Number(pick.value)];
    const x = Array.from({ length: s.n_periods }, (_, i) => i + 1);
    compBox.replaceChildren(bars("composition", `Cash-flow composition of scenario ${s.name}`, x,
      ["interest", "scheduled_principal", "prepayment", "recovery"].map((c) => ({ name: c.replace("_", " "), data: col(s, c), stack: "cf" })),
      { xName: "period (month)", yName: "cash flow" }));
  };
  pick.addEventListener("change", drawComp);
  drawComp();
  out.append(section("Cash-flow composition", field("Scenario", pick), compBox));

  out.append(section("Defaults and losses",
    lines("losses", `Defaults and losses per month for ${scenarios.length} scenarios`, periods,
      scenarios.flatMap((s) => [
        { name: `${s.name}: default`, data: col(s, "default") },
        { name: `${s.name}: loss`, data: col(s, "loss") },
      ]), { xName: "period (month)", yName: "amount" })));

  const keys = ANALYTICS.filter((k) => scenarios.some((s) => s.analytics && s.analytics[k] !== undefined));
  out.append(section("Analytics per scenario",
    scenarios.some((s) => s.analytics)
      ? table(["Scenario", ...keys], scenarios.map((s) => [s.name, ...keys.map((k) => fmt(s.analytics?.[k]))]), "Analytics per scenario (rates annual decimals, durations years)", { "data-testid": "analytics-table" })
      : h("p", {}, "No analytics: give a discount rate, curve or price when running.")));
}
