// Charts on Apache ECharts (tree-shaken: only the chart types used here). Every chart element
// carries data-series / data-points (points per series, comma-separated) so that a test or a
// screen reader user can check what was drawn, and an aria-label describing it.
import * as echarts from "echarts/core";
import { BarChart, HeatmapChart, LineChart, ScatterChart } from "echarts/charts";
import {
  AriaComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  TitleComponent,
  TooltipComponent,
  VisualMapComponent,
} from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";
import { h } from "./dom";

echarts.use([
  BarChart, HeatmapChart, LineChart, ScatterChart, AriaComponent, GridComponent, LegendComponent,
  MarkLineComponent, TitleComponent, TooltipComponent, VisualMapComponent, CanvasRenderer,
]);

export const PALETTE = ["#1f5fa8", "#c2410c", "#15803d", "#7e22ce", "#a16207", "#0e7490", "#be123c", "#4d7c0f"];

const live = new Set<echarts.ECharts>();
window.addEventListener("resize", () => live.forEach((c) => c.resize()));

export interface ChartSpec {
  name: string; // data-chart
  label: string; // aria-label
  points: number[]; // points per series
  option: echarts.EChartsCoreOption;
  height?: number;
}

/** A chart in a new element (returned); the old chart of the same slot is disposed. */
export function chart(spec: ChartSpec): HTMLElement {
  const el = h("div", {
    class: "chart",
    role: "img",
    "aria-label": spec.label,
    "data-chart": spec.name,
    "data-series": spec.points.length,
    "data-points": spec.points.join(","),
  });
  el.style.height = `${spec.height ?? 300}px`;
  // render once attached (ECharts needs the element's size)
  requestAnimationFrame(() => {
    if (!el.isConnected) return;
    const c = echarts.init(el, undefined, { renderer: "canvas" });
    c.setOption({ color: PALETTE, animation: false, aria: { enabled: false }, ...spec.option });
    live.add(c);
    el.dataset.rendered = "true";
    const obs = new MutationObserver(() => {
      if (!el.isConnected) {
        live.delete(c);
        c.dispose();
        obs.disconnect();
      }
    });
    obs.observe(document.getElementById("main") ?? document.body, { childList: true, subtree: true });
  });
  return el;
}

const axisNum = { type: "value" as const, scale: false, axisLabel: { formatter: (v: number) => compact(v) } };

export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(1)}B`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(0)}k`;
  return String(Number(v.toPrecision(3)));
}

/** Lines over a shared x: one series per name. */
export function lines(
  name: string,
  label: string,
  x: number[] | string[],
  series: { name: string; data: (number | null)[]; area?: boolean; stack?: string; dashed?: boolean; color?: string }[],
  opts: { xName?: string; yName?: string; height?: number; scale?: boolean } = {},
): HTMLElement {
  return chart({
    name,
    label,
    points: series.map((s) => s.data.length),
    height: opts.height,
    option: {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 36, bottom: 40 },
      xAxis: { type: "category", data: x, name: opts.xName, nameLocation: "middle", nameGap: 26, boundaryGap: false },
      yAxis: { ...axisNum, scale: !!opts.scale, name: opts.yName },
      series: series.map((s) => ({
        type: "line",
        name: s.name,
        data: s.data,
        showSymbol: false,
        stack: s.stack,
        areaStyle: s.area ? {} : undefined,
        lineStyle: s.dashed ? { type: "dashed" } : undefined,
        itemStyle: s.color ? { color: s.color } : undefined,
        connectNulls: false,
      })),
    },
  });
}

export function bars(
  name: string,
  label: string,
  x: (number | string)[],
  series: { name: string; data: (number | null)[]; stack?: string }[],
  opts: { xName?: string; yName?: string; height?: number; markLines?: { name: string; x: number | string }[] } = {},
): HTMLElement {
  return chart({
    name,
    label,
    points: series.map((s) => s.data.length),
    height: opts.height,
    option: {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 64, right: 24, top: 36, bottom: typeof x[0] === "string" && x.length <= 30 ? 110 : 48, containLabel: false },
      xAxis: {
        type: "category", data: x, name: opts.xName, nameLocation: "middle", nameGap: 30,
        axisLabel: typeof x[0] === "string" && x.length <= 30 ? { interval: 0, rotate: 35, width: 120, overflow: "truncate" } : undefined,
      },
      yAxis: { ...axisNum, name: opts.yName },
      series: series.map((s, i) => ({
        type: "bar",
        name: s.name,
        data: s.data,
        stack: s.stack,
        markLine:
          i === 0 && opts.markLines
            ? { symbol: "none", label: { formatter: "{b}" }, data: opts.markLines.map((m) => ({ name: m.name, xAxis: m.x })) }
            : undefined,
      })),
    },
  });
}

/** A heat map of z[row][col] with labelled rows (y) and columns (x). */
export function heatmap(
  name: string,
  label: string,
  xLabels: string[],
  yLabels: string[],
  z: (number | null)[][],
  opts: { xName?: string; yName?: string; height?: number; digits?: number; inverseY?: boolean; cellText?: (row: number, col: number) => string } = {},
): HTMLElement {
  const data: [number, number, number | string][] = [];
  let lo = Infinity;
  let hi = -Infinity;
  z.forEach((row, yi) =>
    row.forEach((v, xi) => {
      data.push([xi, yi, v === null ? "-" : v]);
      if (v !== null && Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }),
  );
  if (!Number.isFinite(lo)) {
    lo = 0;
    hi = 1;
  }
  const digits = opts.digits ?? 4;
  return chart({
    name,
    label,
    points: [data.length],
    height: opts.height ?? Math.max(260, 40 * yLabels.length + 110),
    option: {
      tooltip: { position: "top" },
      grid: { left: 90, right: 24, top: 16, bottom: 80 },
      xAxis: { type: "category", data: xLabels, name: opts.xName, nameLocation: "middle", nameGap: 28, splitArea: { show: true } },
      yAxis: { type: "category", data: yLabels, name: opts.yName, splitArea: { show: true }, inverse: !!opts.inverseY },
      visualMap: {
        min: lo,
        max: hi === lo ? lo + 1 : hi,
        calculable: true,
        orient: "horizontal",
        left: "center",
        bottom: 0,
        inRange: { color: ["#eff6ff", "#93c5fd", "#1d4ed8", "#172554"] },
      },
      series: [
        {
          type: "heatmap",
          data,
          label: {
            show: xLabels.length * yLabels.length <= 120,
            lineHeight: 14,
            formatter: (p: any) => {
              const v = typeof p.value[2] === "number" ? Number(p.value[2].toPrecision(digits)).toString() : "";
              return opts.cellText ? `${v}\n${opts.cellText(p.value[1], p.value[0])}` : v;
            },
          },
        },
      ],
    },
  });
}

export function scatter(
  name: string,
  label: string,
  series: { name: string; data: [number, number][] }[],
  opts: { xName?: string; yName?: string; height?: number; markX?: number[]; markY?: number[] } = {},
): HTMLElement {
  return chart({
    name,
    label,
    points: series.map((s) => s.data.length),
    height: opts.height,
    option: {
      tooltip: { trigger: "item" },
      legend: { top: 0 },
      grid: { left: 64, right: 48, top: 36, bottom: 48 },
      xAxis: { type: "value", name: opts.xName, nameLocation: "middle", nameGap: 28, scale: true },
      yAxis: { type: "value", name: opts.yName, scale: true },
      series: series.map((s, i) => ({
        type: "scatter",
        name: s.name,
        data: s.data,
        symbolSize: 7,
        markLine:
          i === 0 && (opts.markX || opts.markY)
            ? {
                symbol: "none",
                lineStyle: { type: "dashed" },
                data: [...(opts.markX ?? []).map((v) => ({ xAxis: v })), ...(opts.markY ?? []).map((v) => ({ yAxis: v }))],
              }
            : undefined,
      })),
    },
  });
}
