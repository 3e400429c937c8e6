"""Background work: the APScheduler planner jobs and the outbox dispatcher."""
