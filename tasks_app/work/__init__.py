"""The built-in kinds of work, each a form for its params and a run function given a Reporter.
May import: models, selectors, work.base; never progress or services (the reporter is handed in)."""
