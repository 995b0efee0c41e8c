// Shared form parts: the pool picker (an uploaded pool or a small sample pool sent inline) and
// the assumptions editor (prepayment, default, severity, lag, advancing) used by forecasts,
// scenarios and the risk pages; each control names the API field it fills (data-loc).
import { field, h, input, select } from "./dom";
import { listPools } from "./pages/pools";

export const SAMPLE_LOANS = [
  { loan_id: "S1", balance: 300000, rate: 0.065, original_term_months: 360, age_months: 12 },
  { loan_id: "S2", balance: 150000, rate: 0.055, original_term_months: 180, age_months: 24, servicing_fee: 0.0025 },
  { loan_id: "S3", balance: 220000, rate: 0.07, original_term_months: 360, age_months: 6 },
];

export interface PoolPicker {
  el: HTMLElement;
  value(): { pool_id: string } | { loans: typeof SAMPLE_LOANS };
  label(): string;
}

export async function poolPicker(locPrefix: string, preselect?: string | null): Promise<PoolPicker> {
  const pools = await listPools().catch(() => []);
  const opts: [string, string][] = [
    ...pools.map((p) => [p.pool_id, `${p.name} (${p.n_loans} loans)`] as [string, string]),
    ["__sample", "Sample pool (3 loans, inline)"],
  ];
  const s = select(opts, preselect && pools.some((p) => p.pool_id === preselect) ? preselect : opts[0][0], { name: "pool", "data-testid": "pool-select" });
  return {
    el: field("Pool", s, { loc: locPrefix, hint: pools.length ? undefined : "Upload a tape on the Pools page to use your own loans." }),
    value: () => (s.value === "__sample" ? { loans: SAMPLE_LOANS } : { pool_id: s.value }),
    label: () => s.options[s.selectedIndex]?.text ?? "",
  };
}

type Json = Record<string, any>;

const PREPAY: [string, string][] = [["psa", "PSA (% of ramp)"], ["cpr", "CPR (annual decimal)"], ["abs", "ABS (monthly decimal)"]];
const DEFAULT: [string, string][] = [["cdr", "CDR (annual decimal)"], ["sda", "SDA (% of curve)"]];
const KEY: Record<string, "speed" | "rate"> = { psa: "speed", sda: "speed", cpr: "rate", cdr: "rate", abs: "rate" };

export interface AssumptionsEditor {
  el: HTMLElement;
  value(): Json;
  set(a: Json): void;
}

/** The base assumptions (every field) or, with `overrides`, a scenario's overrides (blank =
 * inherit from the base). `loc` is the API path of the object, e.g. "assumptions". */
export function assumptionsEditor(loc: string, overrides = false, initial: Json = {}): AssumptionsEditor {
  const blank: [string, string][] = overrides ? [["", "(base)"]] : [];
  const pType = select([...blank, ...PREPAY], overrides ? "" : "psa", { name: "prepayment_type" });
  const pVal = input({ inputmode: "decimal", size: 7, value: overrides ? "" : "150", name: "prepayment_value" });
  const dType = select([...blank, ...DEFAULT], overrides ? "" : "cdr", { name: "default_type" });
  const dVal = input({ inputmode: "decimal", size: 7, value: overrides ? "" : "0.02", name: "default_value" });
  const sev = input({ inputmode: "decimal", size: 6, value: overrides ? "" : "0.35", name: "severity" });
  const lag = input({ inputmode: "numeric", size: 4, value: overrides ? "" : "6", name: "recovery_lag_months" });
  const adv = select([...(overrides ? [["", "(base)"] as [string, string]] : []), ["true", "yes"], ["false", "no"]], overrides ? "" : "true", { name: "advancing" });
  const nper = input({ inputmode: "numeric", size: 5, value: "", name: "n_periods", placeholder: overrides ? "(base)" : "auto" });
  const el = h("div", { class: "row assumptions" },
    field("Prepayment", pType, { loc: `${loc}.prepayment` }),
    field(overrides ? "Prepay speed" : "Prepayment speed", pVal, { loc: `${loc}.prepayment.${KEY[pType.value] ?? "speed"}` }),
    field("Default", dType, { loc: `${loc}.default` }),
    field(overrides ? "Default rate" : "Default rate/speed", dVal, { loc: `${loc}.default.${KEY[dType.value] ?? "rate"}` }),
    field("Severity", sev, { loc: `${loc}.severity`, hint: overrides ? undefined : "decimal of the defaulted balance" }),
    field("Recovery lag (months)", lag, { loc: `${loc}.recovery_lag_months` }),
    field("Advancing", adv, { loc: `${loc}.advancing` }),
    field("Horizon (months)", nper, { loc: `${loc}.n_periods` }));
  const relabel = () => {
    pVal.dataset.loc = `${loc}.prepayment.${KEY[pType.value] ?? "speed"}`;
    dVal.dataset.loc = `${loc}.default.${KEY[dType.value] ?? "rate"}`;
  };
  pType.addEventListener("change", relabel);
  dType.addEventListener("change", relabel);
  const numOr = (v: string): number | string => (v.trim() === "" ? v : Number(v));
  const ed: AssumptionsEditor = {
    el,
    value() {
      const out: Json = {};
      if (pType.value) out.prepayment = { type: pType.value, [KEY[pType.value]]: numOr(pVal.value) };
      if (dType.value) out.default = { type: dType.value, [KEY[dType.value]]: numOr(dVal.value) };
      if (sev.value.trim()) out.severity = numOr(sev.value);
      if (lag.value.trim()) out.recovery_lag_months = numOr(lag.value);
      if (adv.value) out.advancing = adv.value === "true";
      if (nper.value.trim()) out.n_periods = numOr(nper.value);
      return out;
    },
    set(a: Json) {
      const p = a.prepayment;
      if (p && KEY[p.type]) {
        pType.value = p.type;
        pVal.value = String(p[KEY[p.type]]);
      } else if (p) {
        pType.value = overrides ? "" : "cpr";
        pVal.value = "";
      }
      const d = a.default;
      if (d && KEY[d.type]) {
        dType.value = d.type;
        dVal.value = String(d[KEY[d.type]]);
      }
      if (a.severity !== undefined && a.severity !== null) sev.value = String(a.severity);
      if (a.recovery_lag_months !== undefined && a.recovery_lag_months !== null) lag.value = String(a.recovery_lag_months);
      if (a.advancing !== undefined && a.advancing !== null) adv.value = String(a.advancing);
      if (a.n_periods) nper.value = String(a.n_periods);
      relabel();
    },
  };
  ed.set(initial);
  return ed;
}
