"""One grading on the trusted side: the student's file in, a verdict per case out.

    pipeline        the order of the steps (run, execute), overlapped with the sandbox's work
    model           the records every step fills in (Grading, CaseVerdict, Check, Diagnosis, Shrunk)
    submission      the student's bytes -> the module the sandbox imports (whole file or spliced block)
    regions         what a whole file changed outside the template's blanks, and the restored module
    reference       the hidden reference solution, run here on private copies of the inputs
    judge           a finished sandbox run -> a verdict per case, then the diagnoses
    compare         one output against the reference's, layer by layer (type, dtype, shape, finite, values)
    misconceptions  named mistakes: variants of the reference that explain failing outputs
    shrink          the smallest case on which a failing submission still fails the same way
    diagnostics     what is wrong with a failing array: shape hints, error statistics, patterns, error map
    locate          where a student's error is, in their own line numbers
    failures        the grader's own failures, as the one reason the platform is told

Every verdict is decided here, from what sandbox/protocol.py parsed: nothing the student's code
sends is trusted to decide one.
"""
