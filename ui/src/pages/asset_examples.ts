// Small example request bodies that the real asset-class routes accept ("Load example" on the
// Asset classes page). Synthetic, deterministic data; sizes kept small so each runs in well under
// a second: 12 loans x 8 months of consumer performance, 40 vintage outcomes, 4 commercial loans,
// 12 CLO assets, 24 periods of deal collateral.
type Json = Record<string, any>;

const CODES: Record<string, string> = { C: "current", "30": "dpd30", "60": "dpd60", "90": "dpd90", CO: "charged_off", P: "prepaid" };
// one line per loan: its state in months 1..8
const PATHS = [
  "C C 30 60 90 CO CO CO", "C C C C C C P P", "C 30 C 30 C C C C", "C C 30 60 C C C C",
  "C C C 30 60 90 90 CO", "C C C C P P P P", "C 30 60 30 C C C C", "C C C C C 30 60 90",
  "C 30 30 60 90 CO CO CO", "C C C C C C C C", "C C 30 C C C 30 C", "C C C 30 60 60 90 CO",
];

export function consumerExample(): Json {
  const perf: Json = { loan_id: [], period: [], state: [], balance: [] };
  PATHS.forEach((p, i) =>
    p.split(" ").forEach((code, t) => {
      perf.loan_id.push(`C${i + 1}`);
      perf.period.push(t + 1);
      perf.state.push(CODES[code]);
      perf.balance.push(5000 - 200 * t);
    }),
  );
  // vintage outcomes: 10 loans a quarter; every third charges off, every fourth prepays
  const out: Json = { vintage: [], original_balance: [], charge_off_month: [], charge_off_amount: [], prepay_month: [], prepay_amount: [] };
  ["2024Q1", "2024Q2", "2024Q3", "2024Q4"].forEach((v, q) => {
    for (let j = 0; j < 10; j++) {
      const co = (j + q) % 3 === 0;
      const pp = !co && j % 4 === 1;
      out.vintage.push(v);
      out.original_balance.push(10000);
      out.charge_off_month.push(co ? 2 + ((j * 5 + q * 3) % 11) : null);
      out.charge_off_amount.push(co ? 6000 : 0);
      out.prepay_month.push(pp ? 3 + ((j + q) % 9) : null);
      out.prepay_amount.push(pp ? 9000 : 0);
    }
  });
  return {
    loan_type: "personal_installment",
    performance: { columns: perf },
    roll_rates: { method: "cohort", weight: "count", states: ["current", "dpd30", "dpd60", "dpd90", "charged_off", "prepaid"] },
    pipeline: { start_balances: { current: 950000, dpd30: 30000, dpd60: 12000, dpd90: 8000 }, months: 36, amortize: true },
    vintages: { outcomes: { columns: out }, max_months: 12 },
  };
}

export function commercialExample(): Json {
  const loan = (id: string, balance: number, rate: number, term: number, type: string, noi: number, value: number, state: string, sponsor: string, amort?: number): Json => ({
    loan_id: id, balance, rate, original_term_months: term,
    amortization: amort ? "balloon" : "interest_only", ...(amort ? { amortization_term_months: amort } : {}),
    property_type: type, noi, property_value: value, state, sponsor,
  });
  return {
    pool: {
      loans: [
        loan("CRE1", 12000000, 0.061, 120, "office", 800000, 13000000, "NY", "A", 360),
        loan("CRE2", 8000000, 0.058, 120, "multifamily", 820000, 13000000, "TX", "B", 360),
        loan("CRE3", 5000000, 0.066, 60, "retail", 300000, 4800000, "FL", "C"),
        loan("CRE4", 15000000, 0.055, 120, "industrial", 1600000, 24000000, "CA", "A", 300),
      ],
    },
    portfolio_loss: { correlation: 0.15, horizon_years: 1, n_paths: 5000, seed: 7, histogram_bins: 20 },
  };
}

function deal(): Json {
  return {
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
}

export function dealExample(): Json {
  const n = 24;
  return {
    deal: deal(),
    collateral_cashflows: {
      balance: 100000000,
      interest: Array.from({ length: n }, (_, i) => Math.round(650000 * (1 - i / (n + 6)))),
      principal: Array.from({ length: n }, () => 3000000),
      losses: Array.from({ length: n }, (_, i) => (i > 5 && i < 14 ? 900000 : 0)),
    },
  };
}

export function cloExample(): Json {
  const ratings = ["Ba2", "Ba3", "B1", "B2", "B3", "Caa1"];
  const industries = ["software", "healthcare", "chemicals", "retail", "media", "telecom"];
  return {
    assets: Array.from({ length: 12 }, (_, i) => ({
      asset_id: `L${i + 1}`, par: 8000000 + 250000 * i, price: Number((0.97 + 0.002 * i).toFixed(3)), spread: Number((0.033 + 0.001 * (i % 5)).toFixed(3)),
      index: "SOFR", floor: 0.005, rating: ratings[i % 6], industry: industries[i % 6], obligor: `OB${i % 9}`,
      maturity_date: `20${29 + (i % 4)}-06-15`, recovery_rate: 0.45,
    })),
    deal: deal(),
    assumptions: {
      cdr: 0.03, cpr: 0.1, n_periods: 48, index_paths: { SOFR: [0.043] },
      quality_triggers: { warf: 3000, was: 0.034, wal: 6, diversity_score: 10, caa_share: 0.075 },
    },
    reinvestment: { end_period: 12, price: 0.995, spread: 0.035, maturity_period: 72 },
  };
}

/** The CLO example with tranche prices: POST .../clo-cdo/tranche-analysis. */
export function trancheExample(): Json {
  return { ...cloExample(), prices: { A: 1.0, B: 0.98, E: 1.0 }, breakeven_tolerance: 1.0 };
}

export const EXAMPLES = { consumer: consumerExample, commercial: commercialExample, clo: cloExample, tranches: trancheExample, deal: dealExample } as const;
