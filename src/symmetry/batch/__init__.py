"""batch: many photos -> one table (scores.csv), in parallel and resumable.

`engine.score_folder` runs a batch: `discover` finds the photos, `labels` names their person,
date, phase and expression, `plan` chooses how each is measured and which are already scored,
`pool` and `worker` score them, `sinks` writes the rows and reads them back (`read_scores`).
"""
