"""Operations: Prometheus metrics (`/metrics`), JSON logs with request ids (docs/operations.md)."""
