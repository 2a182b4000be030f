"""Who is connecting and whether they still may: sessions, API tokens, origins, the credential
checks of open connections and the announcements of changes to them.
May import: models, tasks_app.metrics, tasks_app.db, and tasks_app.realtime's broadcast and close codes."""
