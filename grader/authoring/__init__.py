"""For authors, not part of a grading: is a task fit for students, and the reference docs.

    validation/  ``grader validate``: every check of a task, one module per check (see its map)
    schemadoc    docs/task-spec.md and docs/configuration.md, generated from grader/schemas/
    scaffold/    the files ``grader new`` writes (templates of a spec, a reference, a template)
"""
