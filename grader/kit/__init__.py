"""``grader kit``: a student's offline kit, to try their code before submitting it.

    build   the kit of a task: template, support modules, README, the visible fixed cases'
            inputs and expected outputs (.npz), the messages; into a folder or a .zip
    check   the program a kit ships as check.py (standard library and numpy only, shipped as
            source): runs the visible cases and the task's gradient checks, with the grader's
            codes, messages and hints

Nothing of a hidden case, no random case and no reference source goes into a kit.
"""
