"""fundledger: pays the medical insurance fund to hospitals (daily, monthly, annual)."""
