"""What a task and the grader's settings say: data read, checked, and turned into cases.

    taskspec     a task's YAML spec, validated, with its files resolved (Task, TaskError)
    expressions  the small integer expressions of a spec (derived values, shapes, constraints)
    cases        the spec's parameter space -> seeded random cases and their inputs
    corners      the space's corners (bounds, length-1 dimensions) and the plan that reaches each
    config       grader.yaml: where it is, the tasks root, the merged defaults (Settings)
    yamldoc      YAML documents validated against grader/schemas/, errors located by line
    doccache     parsed and validated documents cached by content (also the sandbox layout's cache)

Nothing here runs student code or knows a particular task.
"""
