"""Commercial real-estate loans: DSCR/LTV metrics and stress, refinance test at maturity,
term default and severity models, concentration, correlated-default losses and the engine's
loan-level cash flows under them (docs/methodology/commercial.md)."""
