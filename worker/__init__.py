"""The rq worker: the sweep schedule, the jobs, and the in-process worker of embedded defaults."""
