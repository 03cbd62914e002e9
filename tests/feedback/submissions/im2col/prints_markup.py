# HOSTILE: prints markup and raises with markup in its message, to check that no feedback format
# lets it become part of the page (tests/feedback/test_render_html.py, tests/browser/).
import numpy as np


def im2col(input_data, filter_h, filter_w, stride=1, pad=0):
    print("<script>document.title='pwned'</script>")
    print("<img src=x onerror=alert(1)>")
    print("</style></pre></details><svg onload=alert(2)>")
    raise ValueError("<script>window.pwned=1</script><a href=\"javascript:alert(3)\">x</a>")
