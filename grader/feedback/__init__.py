"""The answer: a Grading turned into the feedback document and its other forms.

    document    the JSON answer (feedback.schema.json), with messages from the catalogs
    messages    the zh/en message catalogs (catalogs/<lang>.yaml): the only place feedback text lives
    text        the document for a terminal (--format text)
    html        the document as one self-contained page (--format html), drawn with
    htmlpage    escaping, the no-script policy and the stylesheet of every page, and
    svgcharts   inline SVG: heat map, colour scale, bars, histogram (the class summary's too)
    gradescope  the document as Gradescope's results.json
"""
