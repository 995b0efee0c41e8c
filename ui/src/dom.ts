// Small DOM helpers: element builder, labelled fields with an error slot, API errors placed
// next to the field their `loc` names.
import { ApiError, FieldProblem } from "./api";

type Attrs = Record<string, string | number | boolean | undefined | null | EventListener>;
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: (Child | Child[])[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") {
      el.addEventListener(k.slice(2), v as EventListener);
    } else if (k === "class") {
      el.className = String(v);
    } else if (v === true) {
      el.setAttribute(k, "");
    } else {
      el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let uid = 0;
export function nextId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled control with an error slot; `loc` is the API field path (dot-joined, no "body"). */
export function field(
  label: string,
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement,
  opts: { loc?: string; hint?: string } = {},
): HTMLDivElement {
  if (!control.id) control.id = nextId("f");
  const err = h("p", { class: "field-error", id: `${control.id}-err`, role: "alert" });
  const described = [err.id];
  let hint: HTMLElement | null = null;
  if (opts.hint) {
    hint = h("p", { class: "hint", id: `${control.id}-hint` }, opts.hint);
    described.unshift(hint.id);
  }
  control.setAttribute("aria-describedby", described.join(" "));
  if (opts.loc) control.dataset.loc = opts.loc;
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hint, err);
}

export function input(attrs: Attrs = {}): HTMLInputElement {
  return h("input", { type: "text", ...attrs });
}

export function select(options: [string, string][], value?: string, attrs: Attrs = {}): HTMLSelectElement {
  const s = h("select", attrs);
  for (const [v, label] of options) s.append(h("option", { value: v }, label));
  if (value !== undefined) s.value = value;
  return s;
}

export function num(el: HTMLInputElement | HTMLSelectElement): number {
  return Number(el.value);
}

export function optNum(el: HTMLInputElement): number | undefined {
  return el.value.trim() === "" ? undefined : Number(el.value);
}

export function numList(text: string): number[] {
  return text
    .split(/[\s,;]+/)
    .filter((t) => t !== "")
    .map(Number);
}

/** Remove the error marks of a form. */
export function clearErrors(root: HTMLElement): void {
  root.querySelectorAll<HTMLElement>(".field-error").forEach((e) => (e.textContent = ""));
  root.querySelectorAll<HTMLElement>("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  root.querySelectorAll<HTMLElement>(".form-error").forEach((e) => {
    e.textContent = "";
    e.hidden = true;
  });
}

// pydantic puts the tag of a discriminated union in the path ("prepayment.psa.speed"): a
// control names the field without it ("prepayment.speed")
const UNION_TAGS = new Set(["cpr", "psa", "abs", "smm_vector", "cpr_vector", "cdr", "sda", "mdr_vector", "cdr_vector", "hull_white", "vasicek", "cir"]);

function locKey(loc: (string | number)[]): string {
  const parts = (loc[0] === "body" ? loc.slice(1) : loc).map(String);
  return parts.filter((p, i) => !(i > 0 && i < parts.length - 1 && UNION_TAGS.has(p))).join(".");
}

/** Put each problem of an API error next to the control whose data-loc is the longest prefix
 * of its field path; the rest (and non-422 errors) go to the form's `.form-error` box. */
export function showErrors(root: HTMLElement, err: unknown): FieldProblem[] {
  clearErrors(root);
  const box = root.querySelector<HTMLElement>(".form-error");
  if (!(err instanceof ApiError)) {
    if (box) {
      box.hidden = false;
      box.textContent = String(err);
    }
    return [];
  }
  const controls = Array.from(root.querySelectorAll<HTMLElement>("[data-loc]"));
  const unplaced: string[] = [];
  for (const p of err.problems) {
    const key = locKey(p.loc);
    let best: HTMLElement | null = null;
    for (const c of controls) {
      const l = c.dataset.loc!;
      if ((key === l || key.startsWith(l + ".")) && (!best || l.length > best.dataset.loc!.length)) best = c;
    }
    if (best) {
      best.setAttribute("aria-invalid", "true");
      const slot = document.getElementById(`${best.id}-err`);
      if (slot) slot.textContent = (slot.textContent ? slot.textContent + "; " : "") + p.msg;
    } else {
      unplaced.push(key ? `${key}: ${p.msg}` : p.msg);
    }
  }
  if (err.problems.length === 0) unplaced.push(err.message);
  if (box && unplaced.length) {
    box.hidden = false;
    box.textContent = unplaced.join("\n");
  }
  const first = root.querySelector<HTMLElement>("[aria-invalid='true']");
  if (first) first.focus();
  return err.problems;
}

export function fmt(v: unknown, digits = 4): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "number") {
    if (!Number.isFinite(v)) return "—";
    const a = Math.abs(v);
    if (a >= 1000) return v.toLocaleString("en-US", { maximumFractionDigits: 0 });
    return Number(v.toPrecision(digits)).toString();
  }
  return String(v);
}

const NUMERIC = /^[-+−]?[\d,.]+(e[-+]?\d+)?%?$|^—$/i;

/** A table (first column as row headers) in a horizontally scrollable region. */
export function table(headers: string[], rows: Child[][], caption?: string, attrs: Attrs = {}): HTMLElement {
  const cell = (c: Child, i: number) => {
    const cls = typeof c === "string" && NUMERIC.test(c.trim()) ? "num" : undefined;
    return i === 0 ? h("th", { scope: "row" }, c) : h("td", { class: cls }, c);
  };
  const t = h(
    "table",
    attrs,
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, headers.map((x) => h("th", { scope: "col" }, x)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, r.map(cell)))),
  );
  // a scrollable region must be reachable by keyboard (axe: scrollable-region-focusable)
  const wrap = h("div", { class: "table-wrap", tabindex: 0, role: "region", "aria-label": caption ?? headers.join(", ") }, t);
  return wrap;
}

export function section(title: string, ...children: (Child | Child[])[]): HTMLElement {
  const id = nextId("sec");
  return h("section", { "aria-labelledby": id, class: "card" }, h("h2", { id }, title), ...children);
}

export function formError(): HTMLParagraphElement {
  return h("p", { class: "form-error", role: "alert", hidden: true });
}

export function busy(button: HTMLButtonElement, on: boolean, label?: string): void {
  button.disabled = on;
  button.setAttribute("aria-busy", on ? "true" : "false");
  if (label) button.textContent = label;
}
