"""The fund accountant's pages (基金财务): the approval queue, batch, statement and clearing
pages, the payment monitor, the funds page and the accountant's 首页.

Reads go through `queries.py` and `queue.py`, every write through `actions.py` (one adapter,
so the domain services it calls can be re-pointed in one place)."""
