"""The hospital finance officer's pages (医院财务): receipts, settlements and their trace, daily
payments, statements, audit deductions and appeals, the annual clearing, the account statement
between the hospital and the fund, reconciliation and declaration. Scoped to the officer's
institution; reads in `queries` and its siblings `home_queries`, `document_queries`,
`period_queries`; writes through `actions` (the one adapter to the domains)."""
