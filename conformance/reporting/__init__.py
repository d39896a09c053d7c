"""How a run is told: verdicts, the report and its check x layer table, the versions a report
carries, and failing cases saved as files that replay with one command.
"""
