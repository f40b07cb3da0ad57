"""Planning: a plan as data, the planner, the rules a plan is held to, saved plans."""
