"""Validation of a task before any student sees it (``grader validate``): one module per check.

Every check an author needs, each giving problems an author can act on (file:line and the path
in the spec where one is known), in the order ``run.validate`` makes them (check: module):

    spec            (run) the schema, names between sections, files (taskspec.load)
    code            (template) the template has one Begin and one End marker per blank, in order, not
                    nested; template, support modules and reference compile, define the
                    entry and import only what the sandbox has
    params          (params) every fixed case satisfies the constraints; the space yields valid
                    shapes (sampled), every param is used, every shape depends on a param,
                    the same seed gives the same cases
    coverage        (coverage) which case of a run reaches each corner of the space (a param's
                    minimum or maximum, a dimension of length 1), and whether some case can
                    tie where the reference decides by ties or exact values (argmax, max,
                    where, a comparison...)
    reference       (reference_runs) the trusted reference runs on many cases: no exception, finite,
                    non-empty, deterministic outputs
    misconceptions  (variants) each variant fails on a fixed case and is recognised as itself
    checks          (reference_free) the spec's reference-free checks: finite differences of
                    sum(forward * upstream) against the analytic gradients; the adjoint
                    identity <f(x), y> = <x, g(y)> with another task's entry
    sandbox         (sandboxed) the reference graded as a student file through the real pipeline
                    passes every case; the template as shipped fails

Around them: ``report`` (Check, TaskReport: the report, validation.schema.json) and ``context``
(what the checks share: the task, its cases, the time budget of author code run unsandboxed).

Nothing here knows a particular task: a task is data.
"""
