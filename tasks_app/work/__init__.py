"""The built-in kinds of work, each a form for its params and a @progress_task given a Reporter.
May import: models, selectors, progress_tasks (the decorator), work.base; never progress or
services (the reporter is handed in)."""
