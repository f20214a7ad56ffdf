"""Deadline reports for the region's regular reviews (定期调度) and the tie of the month-start
summary to the statements' daily_paid (issue 19 items 5 and 6)."""
