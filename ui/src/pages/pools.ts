// Pools: upload a CSV/Parquet tape with a column mapping (CSV preview read in the browser),
// row-level errors exactly as the API reports them, and the list of stored pools to reuse.
import { ApiError, call, get } from "../api";
import { busy, clearErrors, field, fmt, formError, h, input, section, select, showErrors, table } from "../dom";
import { go } from "../nav";

export const ENGINE_FIELDS = [
  "loan_id", "balance", "rate", "original_term_months", "net_rate", "servicing_fee", "age_months",
  "amortization", "io_months", "amortization_term_months", "payment_frequency", "rate_type",
  "index_name", "margin", "reset_months", "periodic_cap", "periodic_floor", "life_cap", "life_floor",
];

export interface PoolOut {
  pool_id: string;
  name: string;
  origin: string;
  source_format: string;
  n_loans: number;
  total_balance: number;
  columns: string[];
  column_map: Record<string, string> | null;
  size_bytes: number;
  created_at: string;
}

/** CSV text -> rows of cells (RFC 4180 quotes; enough for a preview). */
export function parseCsv(text: string, maxRows: number): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = "";
    } else cell += c;
  }
  if ((cell !== "" || row.length) && rows.length < maxRows) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

const GUESSES: Record<string, string> = {
  id: "loan_id", loanid: "loan_id", loan_number: "loan_id", currentbal: "balance", current_balance: "balance",
  upb: "balance", bal: "balance", noterate: "rate", note_rate: "rate", coupon: "rate", interest_rate: "rate",
  origterm: "original_term_months", orig_term: "original_term_months", term: "original_term_months",
  original_term: "original_term_months", age: "age_months", loan_age: "age_months", wala: "age_months",
  servicing: "servicing_fee", servfee: "servicing_fee",
};

function guess(col: string): string {
  const k = col.trim().toLowerCase().replace(/[\s-]+/g, "_");
  if (ENGINE_FIELDS.includes(k)) return k;
  return GUESSES[k] ?? GUESSES[k.replace(/_/g, "")] ?? "";
}

export async function listPools(): Promise<PoolOut[]> {
  return (await get<{ items: PoolOut[] }>("/api/v1/pools/?limit=200")).items;
}

function rowErrorTable(err: ApiError): HTMLElement | null {
  const rows = err.problems.filter((p) => p.loc[0] === "body" && p.loc[1] === "file");
  if (!rows.length) return null;
  return h("div", { class: "row-errors", "data-testid": "row-errors" },
    h("p", {}, `${rows.length} problem${rows.length > 1 ? "s" : ""} in the tape (nothing was stored):`),
    table(["Row", "Column", "Problem"], rows.map((p) => {
      const rest = p.loc.slice(2);
      const rowNo = rest.length > 1 ? rest[0] : "";
      const col = rest.length > 1 ? rest[1] : rest[0] ?? "";
      return [String(rowNo), String(col), p.msg];
    }), "Row-level errors reported by the API (row = data row index as the API gives it)"));
}

export async function renderPools(main: HTMLElement): Promise<void> {
  main.append(h("h1", {}, "Pools"));
  const file = h("input", { type: "file", accept: ".csv,.parquet,.pq,text/csv", name: "file", "data-testid": "tape-file" });
  const name = input({ name: "name", placeholder: "default: the file name" });
  const format = select([["", "detect"], ["csv", "CSV"], ["parquet", "Parquet"]], "", { name: "format" });
  const mapBox = h("div", { class: "mapping", "data-loc": "column_map", id: "column-map" });
  const mapErr = h("p", { class: "field-error", id: "column-map-err", role: "alert" });
  const preview = h("div", { class: "preview", "data-testid": "preview" });
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", "data-testid": "upload" }, "Upload tape");
  const mapping = new Map<string, HTMLSelectElement>();
  let rawMap: HTMLTextAreaElement | null = null;

  function renderMapping(header: string[]): void {
    mapping.clear();
    rawMap = null;
    mapBox.replaceChildren();
    if (!header.length) {
      rawMap = h("textarea", { rows: 3, cols: 50, id: "raw-map", placeholder: '{"CurrentBal": "balance"}' });
      mapBox.append(h("label", { for: "raw-map" }, "Column mapping (JSON: tape column → engine field; optional)"), rawMap);
      return;
    }
    const options: [string, string][] = [["", "(keep column name)"], ...ENGINE_FIELDS.map((f) => [f, f] as [string, string])];
    const rows = header.map((col) => {
      const s = select(options, guess(col) === col ? "" : guess(col), { "aria-label": `Engine field for tape column ${col}`, "data-col": col });
      mapping.set(col, s);
      return [col, s];
    });
    mapBox.append(table(["Tape column", "Engine field"], rows, "Column mapping (tape column → engine field)"));
  }

  file.addEventListener("change", async () => {
    preview.replaceChildren();
    const f = file.files?.[0];
    if (!f) return;
    const isParquet = /\.(parquet|pq)$/i.test(f.name) || format.value === "parquet";
    if (isParquet) {
      renderMapping([]);
      preview.append(h("p", { class: "hint" }, "Parquet tape: its columns are listed after the upload."));
      return;
    }
    const text = await f.slice(0, 256 * 1024).text();
    const rows = parseCsv(text, 11);
    const header = rows[0] ?? [];
    renderMapping(header);
    preview.append(table(header, rows.slice(1).map((r) => r.map((c) => c)), `Preview: first ${Math.max(0, rows.length - 1)} rows of ${f.name}`, { "data-testid": "preview-table" }));
  });
  renderMapping([]);

  const form = h("form", { class: "card", novalidate: true, "data-testid": "upload-form" },
    h("h2", {}, "Upload a loan tape"),
    h("div", { class: "row" },
      field("Tape file (CSV with a header row, or Parquet)", file, { loc: "file" }),
      field("Name", name, { loc: "name" }),
      field("Format", format, { loc: "format" })),
    mapBox, mapErr, preview, formError(), submit, result);
  mapBox.setAttribute("aria-describedby", mapErr.id);

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    result.replaceChildren();
    form.querySelector(".row-errors")?.remove();
    const f = file.files?.[0];
    const fd = new FormData();
    if (f) fd.append("file", f, f.name);
    if (name.value.trim()) fd.append("name", name.value.trim());
    if (format.value) fd.append("format", format.value);
    const map: Record<string, string> = {};
    mapping.forEach((s, col) => {
      if (s.value && s.value !== col) map[col] = s.value;
    });
    const rawText = (rawMap as HTMLTextAreaElement | null)?.value.trim();
    if (rawText) fd.append("column_map", rawText);
    else if (Object.keys(map).length) fd.append("column_map", JSON.stringify(map));
    busy(submit, true);
    try {
      const { body } = await call<PoolOut>("/api/v1/pools", { form: fd });
      form.querySelectorAll(".field-error").forEach((e) => (e.textContent = ""));
      result.append(h("p", { class: "ok", "data-testid": "upload-ok", "data-pool-id": body.pool_id },
        `Stored pool “${body.name}”: ${body.n_loans} loans, balance ${fmt(body.total_balance)}. `,
        h("a", { href: `#/forecasts?pool=${body.pool_id}` }, "Forecast this pool")));
      await refreshList();
    } catch (e) {
      if (e instanceof ApiError) {
        const isRow = (p: { loc: (string | number)[] }) => p.loc[0] === "body" && p.loc[1] === "file" && p.loc.length > 2;
        const rowProblems = e.problems.filter(isRow);
        const other = e.problems.filter((p) => !isRow(p));
        if (rowProblems.length && !other.length) {
          clearErrors(form);
          file.setAttribute("aria-invalid", "true");
          document.getElementById(`${file.id}-err`)!.textContent = `${rowProblems.length} problem(s) in the tape: see the table below.`;
        } else {
          showErrors(form, rowProblems.length ? new ApiError(e.status, e.code, e.message, other, e.requestId) : e);
        }
        const t = rowErrorTable(e);
        if (t) form.insertBefore(t, submit);
      } else showErrors(form, e);
    } finally {
      busy(submit, false);
    }
  });
  main.append(form);

  const listBox = h("div", { "data-testid": "pool-list" });
  main.append(section("Your pools", listBox));
  async function refreshList(): Promise<void> {
    const pools = await listPools();
    if (!pools.length) {
      listBox.replaceChildren(h("p", {}, "No pools yet: upload a tape above."));
      return;
    }
    listBox.replaceChildren(table(["Name", "Loans", "Balance", "Format", "Columns", "Uploaded", "Use"], pools.map((p) => [
      p.name, String(p.n_loans), fmt(p.total_balance), p.source_format, p.columns.join(", "),
      new Date(p.created_at).toLocaleString(),
      h("span", {}, h("button", { type: "button", class: "small", onclick: () => go(`#/forecasts?pool=${p.pool_id}`) }, "Forecast"), " ",
        h("button", { type: "button", class: "small", onclick: () => go(`#/risk?pool=${p.pool_id}`) }, "Risk")),
    ]), "Uploaded pools, newest first"));
  }
  await refreshList();
}
