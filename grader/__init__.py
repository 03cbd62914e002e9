"""Sandboxed autograder for numpy implementations of CNN layers.

The pipeline, one module per step:

    taskspec   a task's YAML spec, validated, with its files resolved
    cases      the spec's parameter space -> seeded random cases and their inputs
    corners    the space's corners (bounds, length-1 dimensions) and the plan that reaches each in every run
    submission the student's file -> a module source (whole file or spliced block)
    sandbox    launches the runner under bubblewrap or the process backend
    elfdeps    the system files the dynamic loader opens for the sandbox's interpreter and numpy
    landlock, seccomp  the kernel's allow-list and system-call filter the sandbox applies
    removal    deletes what a sandbox wrote, whatever rights it left (also inside warm workers)
    runner     (inside the sandbox) imports the student module, calls it, streams arrays back
    channel    the framing of the streams between the two sides, parsed defensively
    compare    trusted layered checks of each output against the reference's
    misconceptions  named mistakes: variants of the reference that explain failing outputs
    shrink     the smallest case on which a failing submission still fails the same way
    diagnostics     what is wrong with a failing array: shape hints, error statistics, patterns, error map
    locate     where a student's error is, in their own line numbers
    feedback   the JSON answer, with messages from the zh/en catalogs
    render_text     the feedback for a terminal (--format text)
    render_html     the feedback as one self-contained page (--format html), drawn with
                    htmlpage (escaping, the no-script policy, the stylesheet) and svgcharts
                    (heat map, colour scale, bars, histogram; the class summary's too)

For authors (not part of a grading):

    validation `grader validate`: every check of a task before students see it
    schemadoc  docs/task-spec.md and docs/configuration.md, generated from the schemas

Around them (the platform):

    doccache   parsed and validated YAML documents, cached by content
    gradescope the feedback as Gradescope's results.json
    batch      many submissions on shared cases (batchinput reads them, classsummary sums up
               in Markdown, classsummary_html as a page with charts)
    pool       warm workers: sandboxes that fork a fresh child per submission (warm_worker
               runs inside them)
    service/   `grader serve`: the HTTP service (a package; its engine seam grades through
               the pipeline above, in a sandbox per grading)
"""

__version__ = "0.1.0"
SCHEMA_VERSION = "1.0"
