"""ETL operations around the import pipeline: spool, run history, queue, worker tasks, schedules."""
