// Asset classes: views for the specialised-asset routes, shown only when /openapi.json lists them.
import { apiPaths } from "../api";
import { h } from "../dom";

export const ASSET_ROUTES = [
  { path: "/api/v1/specialized-assets/consumer-credit/analyze", key: "consumer", title: "Consumer credit" },
  { path: "/api/v1/specialized-assets/commercial-loans/analyze", key: "commercial", title: "Commercial loans" },
  { path: "/api/v1/specialized-assets/clo-cdo/analyze", key: "clo", title: "CLO / CDO" },
  { path: "/api/v1/deals/run", key: "deal", title: "Deal waterfall" },
];

export async function renderAssets(main: HTMLElement): Promise<void> {
  main.append(h("h1", {}, "Asset classes"));
  const paths = await apiPaths();
  const present = ASSET_ROUTES.filter((r) => paths.has(r.path));
  if (!present.length) main.append(h("p", {}, "This service has no asset-class routes yet."));
}
