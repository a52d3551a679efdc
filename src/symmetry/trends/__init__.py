"""trends: the rows of scores.csv -> per-session tables, recovery, massage effect and noise.

`compute.compute_trends` is the entry; `table` (input, calibration), `movement`, `stats`,
`log` and `definitions` are its steps.
"""
