"""Taskpulse: live progress of background tasks. The domain is at the top (models, services,
selectors, progress, tasks, work/); realtime/, access/, server/ and db/ say their own jobs."""
