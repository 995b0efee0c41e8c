"""Consumer credit and auto loans as an asset class over the engine: roll rates (cohort and
duration estimators), delinquency pipelines feeding the engine's cash flows, vintage curves,
score migration, macro-linked stress and revolving master-trust projections."""
