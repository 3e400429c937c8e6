"""The weekly tip planner's parts; jobs.planner runs them."""
