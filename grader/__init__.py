"""Sandboxed autograder for numpy implementations of CNN layers.

The tree is the pipeline, one folder per stage (each folder's __init__.py maps its modules):

    cli          the command line: parsing, dispatch, the exit codes, the settings every command loads
    commands/    one module per command: grade, batch, replay, tasks (list, template), kit, validate,
                 new, docs, serve
    schemas/     the JSON Schemas of every contract: task spec, grader.yaml, feedback, batch results,
                 validation report, Gradescope results, and the service's OpenAPI document
    spec/        what a task and grader.yaml say: specs, expressions, cases, corners, settings,
                 YAML documents and their cache
    grading/     one grading on the trusted side: the pipeline, its records (model), the submission,
                 the reference, judging, comparing, misconceptions, shrinking, diagnostics
    sandbox/     the trusted side of isolation: backends (bwrap, process), launching, the streams and
                 their protocol, warm workers (pool), limits, uids, the guarantees and their labels
      confined/  what executes inside the sandbox (runner, warm_worker, landlock, seccomp, removal):
                 standard library only, shipped in as source - the trust boundary as a folder
    feedback/    the answer: the JSON document, the zh/en catalogs, text, HTML, Gradescope
    batch/       ``grader batch``: many submissions on shared cases, resumable, and the class summary
    authoring/   for authors: ``grader validate``'s checks, the docs generated from the schemas, the
                 scaffold of ``grader new``
    kit/         ``grader kit``: a student's offline kit (template, support modules, visible cases,
                 check.py that needs only numpy)
    service/     ``grader serve``: the HTTP service around a grading engine (see its __init__.py)

A grading: spec -> cases -> submission -> sandbox (streams, protocol) -> judge -> feedback.
"""

__version__ = "0.1.0"
SCHEMA_VERSION = "1.1"
