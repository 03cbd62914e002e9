"""``grader batch``: a whole class graded on the same cases, resumably, and summed up.

    run           the plan every submission shares, the sandboxes (warm workers or one each), the
                  results file (one JSON line per submission, resumable)
    inputs        the submissions: a folder or a .zip, read defensively
    summary       the class summary: what it counts, in Markdown
    summary_html  the class summary as a page with SVG charts
"""
